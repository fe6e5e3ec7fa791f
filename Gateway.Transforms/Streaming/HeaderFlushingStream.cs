using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Streaming;

/// <summary>
/// The upstream body of a POST's SSE answer: its headers go to the client with the first event, in one write, unless
/// that event takes longer than <see cref="Delay"/>; then they are sent on their own, so that a slow tool does not leave
/// the client (or a front proxy's header timeout) waiting for them.
/// </summary>
/// <remarks>Flushing here is safe: YARP's copy loop is awaiting this read, so nothing else writes to the response.</remarks>
internal sealed class HeaderFlushingStream(Stream inner, HttpResponse response, TimeProvider time) : ReadThroughStream(inner)
{
    /// <summary>How long the first event may take before the headers go alone: past the few ms of a fast tool's answer.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(50);

    private bool _firstRead = true;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = Inner.ReadAsync(buffer, cancellationToken);
        if (!_firstRead || read.IsCompleted)
        {
            _firstRead = false;
            return await read.ConfigureAwait(false);
        }

        _firstRead = false;
        var pending = read.AsTask();
        try
        {
            // One timer, and only for an event that is not there yet; the exception is for slow tools alone.
            return await pending.WaitAsync(Delay, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (!response.HasStarted)
            {
                await response.StartAsync(cancellationToken).ConfigureAwait(false);
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            return await pending.ConfigureAwait(false);
        }
    }
}
