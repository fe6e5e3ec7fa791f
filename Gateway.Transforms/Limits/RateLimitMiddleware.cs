using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Limits;

/// <summary>
/// Applies <c>servers.&lt;name&gt;.rateLimit</c> to each JSON-RPC request: the server's bucket of the caller, then the
/// tool's (by the body's <c>params.name</c>, never a header alone). Refused requests get 429, <c>Retry-After</c> and a
/// JSON-RPC error, and are not forwarded.
/// </summary>
internal sealed partial class RateLimitMiddleware(RequestDelegate next, CallerRateLimiter limiter, McpMetrics metrics, ILogger<RateLimitMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetMcpRequest();
        if (request.Envelope is not { Kind: JsonRpcMessageKind.Request } envelope || request.Options.RateLimit is not { } limit)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var server = request.Server;
        var caller = request.CallerKey;
        var wait = await limiter.TryAcquireAsync(server, caller, limit, context.RequestAborted).ConfigureAwait(false);
        var scope = "server";
        if (wait is null && envelope.Method == "tools/call" && envelope.Name is { } tool && limit.Tools.TryGetValue(tool, out var toolLimit))
        {
            wait = await limiter.TryAcquireAsync(server + "/" + tool, caller, toolLimit, context.RequestAborted).ConfigureAwait(false);
            scope = "tool";
        }

        if (wait is not { } retryAfter)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        metrics.RecordRateLimited(server, scope);
        LogLimited(logger, server, scope);
        RetryAfter.Set(context.Response, retryAfter);
        var message = scope == "tool"
            ? $"Rate limit of tool '{envelope.Name}' on server '{server}' reached. Retry after the Retry-After delay."
            : $"Rate limit of server '{server}' reached. Retry after the Retry-After delay.";
        await McpErrorResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, JsonRpcErrorCodes.RateLimited, message).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate limit ({Scope}) of server {Server} refused a request.")]
    private static partial void LogLimited(ILogger logger, string server, string scope);
}
