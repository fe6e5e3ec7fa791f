using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Gateway.StdioBridge.Configuration;
using Gateway.StdioBridge.Processes;

namespace Gateway.StdioBridge.Sessions;

/// <summary>The live sessions of the bridge: started at <c>initialize</c>, ended by DELETE, idleness, process exit or shutdown.</summary>
internal sealed partial class StdioSessionRegistry(StdioProcessPool pool, TimeProvider timeProvider, ILoggerFactory loggerFactory) : IAsyncDisposable
{
    // How long the answers owed by a crashed process get to reach their clients before the session's streams close.
    private static readonly TimeSpan ExitDrainTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggerFactory.CreateLogger<StdioSessionRegistry>();

    public int Count => _sessions.Count;

    /// <summary>
    /// Starts a session on a process of <paramref name="server"/>; null when its process limit is reached. A one-shot
    /// session serves a session-less (2026-07-28) exchange: it is not registered, and the caller ends it after one POST.
    /// </summary>
    public async Task<StdioSession?> StartAsync(string server, StdioServerOptions options, bool oneShot, CancellationToken cancellationToken)
    {
        var process = await pool.AcquireAsync(server, options, cancellationToken).ConfigureAwait(false);
        if (process is null)
        {
            return null;
        }

        var session = new StdioSession(NewSessionId(), process, oneShot, timeProvider, loggerFactory);
        if (!oneShot)
        {
            _sessions[session.Id] = new Entry(server, options.IdleTimeout, session);
            _ = session.ProcessExited.ContinueWith(_ => EndAfterExitAsync(session), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
            LogSessionStarted(_logger, server, session.Id);
        }

        return session;
    }

    /// <summary>Finds a live session of <paramref name="server"/>.</summary>
    public StdioSession? Find(string server, string sessionId) =>
        _sessions.TryGetValue(sessionId, out var entry) && entry.Server == server ? entry.Session : null;

    /// <summary>Ends a registered session: its streams close and its process is stopped.</summary>
    public Task<bool> EndAsync(string sessionId) => EndAsync(sessionId, drainTimeout: TimeSpan.Zero);

    private Task<bool> EndAfterExitAsync(StdioSession session) => EndAsync(session.Id, ExitDrainTimeout);

    private async Task<bool> EndAsync(string sessionId, TimeSpan drainTimeout)
    {
        if (!_sessions.TryRemove(sessionId, out var entry))
        {
            return false;
        }

        if (drainTimeout > TimeSpan.Zero)
        {
            await entry.Session.DrainAsync(drainTimeout).ConfigureAwait(false);
        }

        await StopAsync(entry.Session).ConfigureAwait(false);
        LogSessionEnded(_logger, entry.Server, sessionId);
        return true;
    }

    /// <summary>Ends a session's streams and stops its process (directly for one-shot sessions).</summary>
    public async Task StopAsync(StdioSession session)
    {
        await session.DisposeAsync().ConfigureAwait(false);
        await pool.ReleaseAsync(session.Process).ConfigureAwait(false);
    }

    /// <summary>Ends the sessions that have been idle past their server's idle timeout.</summary>
    public async Task ReapIdleAsync()
    {
        foreach (var (id, entry) in _sessions)
        {
            if (entry.Session.IsIdle(entry.IdleTimeout))
            {
                LogSessionIdle(_logger, entry.Server, id, entry.IdleTimeout);
                await EndAsync(id).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        pool.StopWarming();
        await Task.WhenAll(_sessions.Keys.Select(EndAsync)).ConfigureAwait(false);
    }

    private static string NewSessionId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(18));

    [LoggerMessage(Level = LogLevel.Information, Message = "Started a session of server {Server}: {SessionId}.")]
    private static partial void LogSessionStarted(ILogger logger, string server, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ended session {SessionId} of server {Server}.")]
    private static partial void LogSessionEnded(ILogger logger, string server, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of server {Server} was idle for {IdleTimeout}; ending it.")]
    private static partial void LogSessionIdle(ILogger logger, string server, string sessionId, TimeSpan idleTimeout);

    private sealed record Entry(string Server, TimeSpan IdleTimeout, StdioSession Session);
}
