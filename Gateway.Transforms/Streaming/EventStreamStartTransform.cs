using Gateway.Transforms.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Streaming;

/// <summary>Sends a standalone GET stream's headers to the client as soon as the upstream sent them; counts SSE answers.</summary>
/// <remarks>
/// YARP holds response headers back until the first body bytes arrive (right for gRPC, which can answer with
/// headers and trailers only). An MCP GET stream may stay quiet for minutes after its headers; holding them would
/// leave the client unsure the stream is open, and let the activity timeout turn a healthy stream into a 502.
/// A POST's SSE answer is awaited by its client anyway and comes with its first event: its headers go with it,
/// one write instead of two. Must be the last response transform: nothing can change the headers once they are sent.
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

            if (HttpMethods.IsGet(context.HttpContext.Request.Method))
            {
                // StartAsync only commits the headers; the flush puts them on the wire.
                await context.HttpContext.Response.StartAsync(context.CancellationToken).ConfigureAwait(false);
                await context.HttpContext.Response.Body.FlushAsync(context.CancellationToken).ConfigureAwait(false);
            }
        }
    }
}
