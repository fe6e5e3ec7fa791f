using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Transforms.VirtualServers;

/// <summary>Relays a member's progress to the client under the client's own token, on the client's request stream, in order.</summary>
internal sealed class ProgressRelay(McpServer server, ProgressToken token) : IProgress<ProgressNotificationValue>
{
    private readonly Lock _order = new();
    private Task _sent = Task.CompletedTask;

    public void Report(ProgressNotificationValue value)
    {
        lock (_order)
        {
            _sent = SendAfterAsync(_sent, value);
        }
    }

    /// <summary>Completes once everything reported so far was sent.</summary>
    public Task SentAsync()
    {
        lock (_order)
        {
            return _sent;
        }
    }

    private async Task SendAfterAsync(Task previous, ProgressNotificationValue value)
    {
        await previous.ConfigureAwait(false);
        try
        {
            await server.NotifyProgressAsync(token, value).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException or McpException)
        {
            // The client's request stream is gone; the result would not reach it either.
        }
    }
}
