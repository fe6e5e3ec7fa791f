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
    private readonly ConcurrentDictionary<string, SharedUpstream> _shared = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sharedStarting = new(1, 1);
    private readonly ILogger _logger = loggerFactory.CreateLogger<StdioSessionRegistry>();

    public int Count => _sessions.Count;

    /// <summary>
    /// Starts a session on a process of <paramref name="server"/>; null when its process limit is reached. A one-shot
    /// session serves a session-less (2026-07-28) exchange: it is not registered, and the caller ends it after one POST.
    /// </summary>
    /// <remarks>
    /// At the limit, the session of the server that has been idle longest (no request in flight) is ended to make
    /// room: clients that never send DELETE would otherwise hold every process until the idle timeout. Its client
    /// gets 404 on its next request and initializes again, as MCP has it. Null only when every process is busy.
    /// </remarks>
    public async Task<StdioSession?> StartAsync(string server, StdioServerOptions options, bool oneShot, CancellationToken cancellationToken)
    {
        var upstream = await UpstreamOf(server, options, cancellationToken).ConfigureAwait(false);
        if (upstream is null && options.Mode == StdioProcessMode.PerSession && await EndLongestIdleAsync(server, options).ConfigureAwait(false))
        {
            upstream = await UpstreamOf(server, options, cancellationToken).ConfigureAwait(false);
        }

        if (upstream is null)
        {
            return null;
        }

        var session = new StdioSession(NewSessionId(), upstream, oneShot, timeProvider, loggerFactory);
        if (!oneShot)
        {
            _sessions[session.Id] = new Entry(server, options.IdleTimeout, session);
            _ = session.ProcessExited.ContinueWith(_ => EndAfterExitAsync(session), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
            LogSessionStarted(_logger, server, session.Id);
        }

        return session;
    }

    private async Task<IStdioUpstream?> UpstreamOf(string server, StdioServerOptions options, CancellationToken cancellationToken) =>
        options.Mode == StdioProcessMode.Shared
            ? await SharedUpstreamOf(server, options, cancellationToken).ConfigureAwait(false)
            : await pool.AcquireAsync(server, options, cancellationToken).ConfigureAwait(false) is { } process
                ? new DedicatedUpstream(process, pool, _logger)
                : null;

    /// <summary>Ends the session of <paramref name="server"/> idle the longest; false when every one has a request in flight.</summary>
    private async Task<bool> EndLongestIdleAsync(string server, StdioServerOptions options)
    {
        var idle = _sessions
            .Where(s => s.Value.Server == server && !s.Value.Session.HasRequestInFlight)
            .OrderBy(s => s.Value.Session.LastActivityTicks)
            .Select(s => s.Key)
            .FirstOrDefault();
        if (idle is null)
        {
            return false;
        }

        LogMakingRoom(_logger, server, idle, options.MaxProcesses);
        return await EndAsync(idle).ConfigureAwait(false);
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

        await entry.Session.DisposeAsync().ConfigureAwait(false);
        LogSessionEnded(_logger, entry.Server, sessionId);
        return true;
    }

    /// <summary>The running shared process of a server, started (within its process limit) if there is none.</summary>
    private async Task<SharedUpstream?> SharedUpstreamOf(string server, StdioServerOptions options, CancellationToken cancellationToken)
    {
        await _sharedStarting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_shared.TryGetValue(server, out var running) && !running.Ended.IsCompleted)
            {
                return running;
            }

            if (await pool.AcquireAsync(server, options, cancellationToken).ConfigureAwait(false) is not { } process)
            {
                return null;
            }

            var shared = new SharedUpstream(process, _logger);
            _shared[server] = shared;
            _ = shared.Ended.ContinueWith(_ => pool.ReleaseAsync(process).AsTask(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
            return shared;
        }
        finally
        {
            _sharedStarting.Release();
        }
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
        foreach (var shared in _shared.Values)
        {
            // Its end releases its place in the pool (see SharedUpstreamOf).
            await shared.Process.DisposeAsync().ConfigureAwait(false);
            await shared.Ended.ConfigureAwait(false);
        }

        _sharedStarting.Dispose();
    }

    private static string NewSessionId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(18));

    [LoggerMessage(Level = LogLevel.Information, Message = "Started a session of server {Server}: {SessionId}.")]
    private static partial void LogSessionStarted(ILogger logger, string server, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ended session {SessionId} of server {Server}.")]
    private static partial void LogSessionEnded(ILogger logger, string server, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Server} runs its {MaxProcesses} processes; ending session {SessionId}, idle the longest, to make room for a new one.")]
    private static partial void LogMakingRoom(ILogger logger, string server, string sessionId, int maxProcesses);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of server {Server} was idle for {IdleTimeout}; ending it.")]
    private static partial void LogSessionIdle(ILogger logger, string server, string sessionId, TimeSpan idleTimeout);

    private sealed record Entry(string Server, TimeSpan IdleTimeout, StdioSession Session);
}
