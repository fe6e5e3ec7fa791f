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
            response.Content = new EndingContent(response.Content, streamsClosing);
        }

        return response;
    }

    private sealed class EndingContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly CancellationToken _closing;

        public EndingContent(HttpContent inner, CancellationToken closing)
        {
            _inner = inner;
            _closing = closing;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new EndingStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _closing);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Reads through to the upstream until the gateway closes its streams; from then on, reads as ended.</summary>
    private sealed class EndingStream(Stream inner, CancellationToken closing) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (closing.IsCancellationRequested)
            {
                return 0;
            }

            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
            try
            {
                return await inner.ReadAsync(buffer, either.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is OperationCanceledException or IOException) && closing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => closing.IsCancellationRequested ? 0 : inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
