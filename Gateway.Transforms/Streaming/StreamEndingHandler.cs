using Gateway.Mcp;
namespace Gateway.Transforms.Streaming;

/// <summary>Ends the upstream's standalone GET streams, as the client sees them, when the gateway shuts down.</summary>
/// <remarks>
/// A GET stream never ends by itself, and the host waits for it until the grace period is over. Cancelling the
/// request would make YARP abort the client's connection mid-response. Instead the upstream stream reads as ended:
/// YARP then finishes the response as it does any other (the last chunk, or END_STREAM), the request returns, and
/// the client reconnects, to another replica, with <c>Last-Event-ID</c>.
/// </remarks>
internal sealed class StreamEndingHandler(HttpMessageHandler inner, CancellationToken streamsClosing) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (request.Method == HttpMethod.Get
            && string.Equals(response.Content.Headers.ContentType?.MediaType, McpMediaTypes.EventStream, StringComparison.OrdinalIgnoreCase))
        {
            response.Content = new WrappedStreamContent(response.Content, upstream => new EndingStream(upstream, streamsClosing));
        }

        return response;
    }

    /// <summary>Reads through to the upstream until the gateway closes its streams; from then on, reads as ended.</summary>
    private sealed class EndingStream(Stream inner, CancellationToken closing) : ReadThroughStream(inner)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (closing.IsCancellationRequested)
            {
                return 0;
            }

            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
            try
            {
                return await Inner.ReadAsync(buffer, either.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is OperationCanceledException or IOException) && closing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => closing.IsCancellationRequested ? 0 : Inner.Read(buffer, offset, count);
    }
}
