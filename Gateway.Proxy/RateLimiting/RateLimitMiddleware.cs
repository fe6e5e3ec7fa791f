using System.Globalization;
using Gateway.Proxy.Configuration;
using Gateway.Transforms.JsonRpc;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Telemetry;

namespace Gateway.Proxy.RateLimiting;

/// <summary>
/// Applies <c>servers.&lt;name&gt;.rateLimit</c> to each JSON-RPC request: the server's bucket of the caller, then the
/// tool's (by the body's <c>params.name</c>, never a header alone). Refused requests get 429, <c>Retry-After</c> and a
/// JSON-RPC error, and are not forwarded.
/// </summary>
internal sealed partial class RateLimitMiddleware(RequestDelegate next, RoutesConfigStore routes, CallerRateLimiter limiter, McpMetrics metrics, ILogger<RateLimitMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var envelope = context.Features.Get<JsonRpcEnvelope>();
        var server = context.GetReverseProxyFeature().Route.Config.ClusterId!;
        if (envelope is not { Kind: JsonRpcMessageKind.Request } || !routes.Current.Servers.TryGetValue(server, out var options) || options.RateLimit is not { } limit)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var caller = CallerOf(context);
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
        context.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var message = scope == "tool"
            ? $"Rate limit of tool '{envelope.Name}' on server '{server}' reached. Retry after the Retry-After delay."
            : $"Rate limit of server '{server}' reached. Retry after the Retry-After delay.";
        await JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status429TooManyRequests, JsonRpcErrorCodes.RateLimited, message, envelope.Id).ConfigureAwait(false);
    }

    /// <summary>The authenticated caller, or the client's address when anonymous (the connection's, never X-Forwarded-For).</summary>
    private static string CallerOf(HttpContext context)
    {
        var caller = CallerIdentity.Of(context);
        return caller.Length > 0 ? caller : "ip:" + context.Connection.RemoteIpAddress;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate limit ({Scope}) of server {Server} refused a request.")]
    private static partial void LogLimited(ILogger logger, string server, string scope);
}
