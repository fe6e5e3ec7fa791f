using Gateway.StdioBridge.Processes;
using ModelContextProtocol.Protocol;

namespace Gateway.StdioBridge.Sessions;

/// <summary>A process that serves one session: messages pass unchanged, and the process stops with the session.</summary>
internal sealed class DedicatedUpstream(StdioProcess process, StdioProcessPool pool) : IStdioUpstream
{
    private Task _pump = Task.CompletedTask;

    public string Server => process.Server;

    public void Attach(StdioSession session)
    {
        process.SessionId = session.Id;
        _pump = PumpAsync(session);
    }

    public Task SendAsync(StdioSession from, JsonRpcMessage message, CancellationToken cancellationToken) =>
        process.Connection.SendMessageAsync(message, cancellationToken);

    public async ValueTask DetachAsync(StdioSession session)
    {
        await pool.ReleaseAsync(process).ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
    }

    private async Task PumpAsync(StdioSession session)
    {
        Exception? ended = null;
        try
        {
            await foreach (var message in process.Connection.MessageReader.ReadAllAsync().ConfigureAwait(false))
            {
                await session.DeliverAsync(message).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            ended = ex;
        }

        await session.UpstreamEndedAsync(StdioExit.Describe(ended)).ConfigureAwait(false);
    }
}
