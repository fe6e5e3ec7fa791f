using Gateway.Transforms.JsonRpc;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy.Mcp;

/// <summary>
/// Gives YARP's bodiless failure answers (no destination, connection refused, timeout) a JSON-RPC error body,
/// so MCP clients can show what happened; answers that came from the upstream are left alone.
/// </summary>
internal sealed partial class UpstreamErrorMiddleware(RequestDelegate next, ILogger<UpstreamErrorMiddleware> logger)
{
    private const string RetryAfterSeconds = "5";

    public async Task InvokeAsync(HttpContext context)
    {
        await next(context).ConfigureAwait(false);

        if (context.GetForwarderErrorFeature() is not { } failure || context.Response.HasStarted
            || failure.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
        {
            // An answer already under way, or a client that left: nothing to tell anyone.
            return;
        }

        var server = context.GetRouteModel().Config.ClusterId ?? "?";
        LogUpstreamFailed(logger, server, failure.Error, failure.Exception?.Message);
        var id = context.Features.Get<JsonRpcEnvelope>()?.Id ?? default;
        var status = context.Response.StatusCode;
        if (status == StatusCodes.Status504GatewayTimeout)
        {
            await JsonRpcErrorResponse.WriteAsync(context.Response, status, JsonRpcErrorCodes.UpstreamTimeout,
                $"Upstream server '{server}' did not answer in time.", id).ConfigureAwait(false);
            return;
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds;
        }

        await JsonRpcErrorResponse.WriteAsync(context.Response, status, JsonRpcErrorCodes.UpstreamUnavailable,
            $"Upstream server '{server}' is unavailable ({failure.Error}). Try again later.", id).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding to server {Server} failed: {Error} {Detail}")]
    private static partial void LogUpstreamFailed(ILogger logger, string server, ForwarderError error, string? detail);
}
