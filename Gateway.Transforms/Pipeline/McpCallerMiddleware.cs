using Gateway.Transforms.InboundAuth;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Pipeline;

/// <summary>Notes who is calling, once, right after authentication; authorization and every later step read it.</summary>
internal sealed class McpCallerMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<McpRequestContext>() is { } request)
        {
            request.Caller = McpCaller.Of(context.User);
        }

        return next(context);
    }
}
