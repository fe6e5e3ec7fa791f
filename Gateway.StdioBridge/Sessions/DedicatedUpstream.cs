using Gateway.StdioBridge.Processes;
using ModelContextProtocol.Protocol;

namespace Gateway.StdioBridge.Sessions;

/// <summary>A process that serves one session: messages pass unchanged, and the process stops with the session.</summary>
internal sealed partial class DedicatedUpstream(StdioProcess process, StdioProcessPool pool, ILogger logger) : IStdioUpstream
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
        try
        {
            await foreach (var message in process.Connection.MessageReader.ReadAllAsync().ConfigureAwait(false))
            {
                await session.DeliverAsync(message).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            LogProcessStreamFailed(logger, process.Server, session.Id, ex);
        }

        await session.UpstreamEndedAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading from the process of server {Server} for session {SessionId} failed.")]
    private static partial void LogProcessStreamFailed(ILogger logger, string server, string sessionId, Exception exception);
}
