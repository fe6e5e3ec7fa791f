namespace Gateway.Transforms.Forwarding;

/// <summary>Sends a small request's headers and body to the upstream in one write.</summary>
/// <remarks>
/// YARP flushes a request's headers before it copies the body, so that a streaming upstream (gRPC) sees them at
/// once. An MCP POST body is a few hundred bytes that the gateway has already read whole; sent apart, it costs a
/// second write here and a second read in the upstream: 7–9% of a small call's CPU on each side (bench/). Taking
/// the body into the content's buffer first lets HttpClient put headers and body in one write. Larger bodies are
/// copied as YARP does it: they do not fit HttpClient's 4 KiB write buffer, so they take two writes either way.
/// </remarks>
internal sealed class SingleWriteRequestHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    internal const int MaxBufferedBytes = 4 * 1024;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { Headers.ContentLength: > 0 and <= MaxBufferedBytes } content)
        {
            await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
