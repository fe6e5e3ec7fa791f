using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
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
/// A POST's SSE answer usually comes with its first event at once: its headers go with it, one write instead of two,
/// unless the event is slow (<see cref="HeaderFlushingStream"/>). <see cref="McpPipeline.AddTransforms"/> runs it
/// last: nothing can change the headers once they are sent.
/// </remarks>
internal sealed class EventStreamStartTransform(McpMetrics metrics, TimeProvider time) : ResponseTransform
{
    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var contentType = context.ProxyResponse?.Content.Headers.ContentType?.MediaType;
        var http = context.HttpContext;
        if (string.Equals(contentType, McpMediaTypes.EventStream, StringComparison.OrdinalIgnoreCase) && !http.Response.HasStarted)
        {
            http.Response.Headers.Remove(HeaderNames.ContentLength);
            var request = http.GetMcpRequest();
            request.EventStream = true;
            metrics.StreamOpened(request.Server);

            if (HttpMethods.IsGet(http.Request.Method))
            {
                // StartAsync only commits the headers; the flush puts them on the wire.
                await http.Response.StartAsync(context.CancellationToken).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(context.CancellationToken).ConfigureAwait(false);
            }
            else if (context.ProxyResponse is { } answer)
            {
                var response = http.Response;
                answer.Content = new WrappedStreamContent(answer.Content, upstream => new HeaderFlushingStream(upstream, response, time));
            }
        }
    }
}
