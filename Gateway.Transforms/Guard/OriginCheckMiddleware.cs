using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Guard;

/// <summary>
/// Refuses browser requests from origins the gateway does not allow (the DNS-rebinding defence MCP asks for), before
/// authentication: a foreign page learns nothing from a 401 challenge, and gets 403 with or without a token.
/// </summary>
internal sealed partial class OriginCheckMiddleware(RequestDelegate next, OriginPolicy origins, ILogger<OriginCheckMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || context.Features.Get<McpRequestContext>() is not { } request || origins.IsAllowed(origin, request.Gateway))
        {
            return next(context);
        }

        LogOriginRejected(logger, origin);
        return McpErrorResponse.WriteAsync(context, StatusCodes.Status403Forbidden, JsonRpcErrorCodes.OriginNotAllowed,
            "Origin not allowed. Add it to gateway.allowedOrigins in routes.yaml if this browser application may use the gateway.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a request from origin {Origin}: not in gateway.allowedOrigins.")]
    private static partial void LogOriginRejected(ILogger logger, string origin);
}
