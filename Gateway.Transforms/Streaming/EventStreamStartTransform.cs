using Gateway.Transforms.Telemetry;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Streaming;

/// <summary>Sends an SSE response's headers to the client as soon as the upstream sent them.</summary>
/// <remarks>
/// YARP holds response headers back until the first body bytes arrive (right for gRPC, which can answer with
/// headers and trailers only). An MCP GET stream may stay quiet for minutes after its headers; holding them would
/// leave the client unsure the stream is open, and let the activity timeout turn a healthy stream into a 502.
/// Must be the last response transform: nothing can change the headers once they are sent.
/// </remarks>
public sealed class EventStreamStartTransform(McpMetrics metrics) : ResponseTransform
{
    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var contentType = context.ProxyResponse?.Content.Headers.ContentType?.MediaType;
        if (string.Equals(contentType, "text/event-stream", StringComparison.OrdinalIgnoreCase) && !context.HttpContext.Response.HasStarted)
        {
            context.HttpContext.Response.Headers.Remove(HeaderNames.ContentLength);
            if (context.HttpContext.Features.Get<McpExchange>() is { } exchange)
            {
                exchange.EventStream = true;
                metrics.StreamOpened(exchange.Server);
            }

            // StartAsync only commits the headers; the flush puts them on the wire.
            await context.HttpContext.Response.StartAsync(context.CancellationToken).ConfigureAwait(false);
            await context.HttpContext.Response.Body.FlushAsync(context.CancellationToken).ConfigureAwait(false);
        }
    }
}
