using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Gives YARP's bodiless failure answers (no destination, connection refused, timeout) a JSON-RPC error body,
/// so MCP clients can show what happened; answers that came from the upstream are left alone.
/// </summary>
internal sealed partial class UpstreamErrorMiddleware(RequestDelegate next, ILogger<UpstreamErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context).ConfigureAwait(false);

        if (context.GetForwarderErrorFeature() is not { } failure || context.Response.HasStarted
            || failure.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
        {
            // An answer already under way, or a client that left: nothing to tell anyone.
            return;
        }

        var server = context.GetMcpRequest().Server;
        LogUpstreamFailed(logger, server, failure.Error, failure.Exception?.Message);
        var status = context.Response.StatusCode;
        if (status == StatusCodes.Status504GatewayTimeout)
        {
            await McpErrorResponse.WriteAsync(context, status, JsonRpcErrorCodes.UpstreamTimeout,
                $"Upstream server '{server}' did not answer in time.").ConfigureAwait(false);
            return;
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            RetryAfter.Set(context.Response, RetryAfter.Unknown);
        }

        await McpErrorResponse.WriteAsync(context, status, JsonRpcErrorCodes.UpstreamUnavailable,
            $"Upstream server '{server}' is unavailable ({failure.Error}). Try again later.").ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding to server {Server} failed: {Error} {Detail}")]
    private static partial void LogUpstreamFailed(ILogger logger, string server, ForwarderError error, string? detail);
}
