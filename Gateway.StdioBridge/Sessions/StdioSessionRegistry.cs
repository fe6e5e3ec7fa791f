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
    private readonly Dictionary<(string Server, string Caller), int> _callerSessions = [];
    private readonly ILogger _logger = loggerFactory.CreateLogger<StdioSessionRegistry>();

    public int Count => _sessions.Count;

    /// <summary>
    /// Starts a session of <paramref name="caller"/> on a process of <paramref name="server"/>, or says why it cannot.
    /// A one-shot session serves a session-less (2026-07-28) exchange: it is not registered, and the caller ends it
    /// after one POST.
    /// </summary>
    /// <remarks>
    /// At a limit, the session idle the longest (no request in flight) is ended to make room: of the caller's own
    /// sessions at its <see cref="StdioServerOptions.MaxSessionsPerCaller"/>, of the server's at its process limit.
    /// Clients that never send DELETE would otherwise hold their processes until the idle timeout. The ended
    /// session's client gets 404 on its next request and initializes again, as MCP has it. A refusal only when every
    /// session in the way has a request in flight.
    /// </remarks>
    public async Task<SessionStart> StartAsync(string server, StdioServerOptions options, string caller, bool oneShot, CancellationToken cancellationToken)
    {
        var perCaller = !oneShot && options.LimitsSessionsPerCaller;

        // At its limit, the caller's session that is ended hands its place to the new one, so that no other request
        // of the caller can take it in between.
        if (perCaller && !TryCountSession(server, caller, options.MaxSessionsPerCaller) && !await EndLongestIdleAsync(server, caller, options).ConfigureAwait(false))
        {
            return new SessionStart(null, SessionRefusal.CallerAtLimit);
        }

        var started = false;
        try
        {
            var upstream = await UpstreamOf(server, options, cancellationToken).ConfigureAwait(false);
            if (upstream is null && options.Mode == StdioProcessMode.PerSession && await EndLongestIdleAsync(server, caller: null, options).ConfigureAwait(false))
            {
                upstream = await UpstreamOf(server, options, cancellationToken).ConfigureAwait(false);
            }

            if (upstream is null)
            {
                return new SessionStart(null, SessionRefusal.ServerBusy);
            }

            var session = new StdioSession(NewSessionId(), upstream, oneShot, timeProvider, loggerFactory);
            if (!oneShot)
            {
                _sessions[session.Id] = new Entry(server, perCaller ? caller : null, options.IdleTimeout, session);
                _ = session.ProcessExited.ContinueWith(_ => EndAfterExitAsync(session), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
                LogSessionStarted(_logger, server, session.Id);
            }

            started = true;
            return new SessionStart(session, SessionRefusal.None);
        }
        finally
        {
            if (perCaller && !started)
            {
                UncountSession(server, caller);
            }
        }
    }

    // Counted before the process starts, so that a caller sending many initialize requests at once cannot pass its limit.
    private bool TryCountSession(string server, string caller, int limit)
    {
        lock (_callerSessions)
        {
            _callerSessions.TryGetValue((server, caller), out var count);
            if (count >= limit)
            {
                return false;
            }

            _callerSessions[(server, caller)] = count + 1;
            return true;
        }
    }

    private void UncountSession(string server, string caller)
    {
        lock (_callerSessions)
        {
            if (_callerSessions.TryGetValue((server, caller), out var count) && count > 1)
            {
                _callerSessions[(server, caller)] = count - 1;
            }
            else
            {
                _callerSessions.Remove((server, caller));
            }
        }
    }

    private async Task<IStdioUpstream?> UpstreamOf(string server, StdioServerOptions options, CancellationToken cancellationToken) =>
        options.Mode == StdioProcessMode.Shared
            ? await SharedUpstreamOf(server, options, cancellationToken).ConfigureAwait(false)
            : await pool.AcquireAsync(server, options, cancellationToken).ConfigureAwait(false) is { } process
                ? new DedicatedUpstream(process, pool)
                : null;

    /// <summary>
    /// Ends the session of <paramref name="server"/> idle the longest, of <paramref name="caller"/> when given (its
    /// place in the caller's count then goes to the caller's new session); false when every one has a request in flight.
    /// </summary>
    private async Task<bool> EndLongestIdleAsync(string server, string? caller, StdioServerOptions options)
    {
        var idle = _sessions
            .Where(s => s.Value.Server == server && (caller is null || s.Value.Caller == caller) && !s.Value.Session.HasRequestInFlight)
            .OrderBy(s => s.Value.Session.LastActivityTicks)
            .Select(s => s.Key);

        // Another start may be ending the same session: the one that removes it ends it, the other takes the next.
        foreach (var id in idle)
        {
            if (_sessions.TryRemove(id, out var entry))
            {
                if (caller is null)
                {
                    LogMakingRoom(_logger, server, id, options.MaxProcesses);
                }
                else
                {
                    LogMakingRoomForCaller(_logger, server, id, options.MaxSessionsPerCaller);
                }

                await EndRemovedAsync(entry, TimeSpan.Zero, releaseCallerPlace: caller is null).ConfigureAwait(false);
                return true;
            }
        }

        return false;
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

        await EndRemovedAsync(entry, drainTimeout, releaseCallerPlace: true).ConfigureAwait(false);
        return true;
    }

    private async Task EndRemovedAsync(Entry entry, TimeSpan drainTimeout, bool releaseCallerPlace)
    {
        try
        {
            if (drainTimeout > TimeSpan.Zero)
            {
                await entry.Session.DrainAsync(drainTimeout).ConfigureAwait(false);
            }

            await entry.Session.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // Whatever stopping the process did: a place never freed would count against the caller for good.
            if (releaseCallerPlace && entry.Caller is not null)
            {
                UncountSession(entry.Server, entry.Caller);
            }

            LogSessionEnded(_logger, entry.Server, entry.Session.Id);
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "A caller of server {Server} has its {Limit} sessions; ending its session {SessionId}, idle the longest, to make room for its new one.")]
    private static partial void LogMakingRoomForCaller(ILogger logger, string server, string sessionId, int limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of server {Server} was idle for {IdleTimeout}; ending it.")]
    private static partial void LogSessionIdle(ILogger logger, string server, string sessionId, TimeSpan idleTimeout);

    // Caller: whose session it is, when it counts towards that caller's limit.
    private sealed record Entry(string Server, string? Caller, TimeSpan IdleTimeout, StdioSession Session);
}
