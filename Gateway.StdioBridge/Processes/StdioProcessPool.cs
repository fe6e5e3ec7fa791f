using System.Collections.Concurrent;
using Gateway.StdioBridge.Configuration;

namespace Gateway.StdioBridge.Processes;

/// <summary>
/// Hands out processes per server within its <see cref="StdioServerOptions.MaxProcesses"/>, from a warm pool of
/// already started ones when it has any, and keeps that pool topped up.
/// </summary>
internal sealed partial class StdioProcessPool(StdioProcessLauncher launcher, TimeProvider timeProvider, ILogger<StdioProcessPool> logger) : IAsyncDisposable
{
    private static readonly TimeSpan RefillDelay = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, ServerProcesses> _servers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    /// <summary>A process for a new session, or null when the server's process limit is reached.</summary>
    public async Task<StdioProcess?> AcquireAsync(string server, StdioServerOptions options, CancellationToken cancellationToken)
    {
        var entry = await EntryFor(server, options).ConfigureAwait(false);
        while (entry.Idle.TryDequeue(out var pooled))
        {
            if (!pooled.HasExited)
            {
                Refill(entry);
                return pooled;
            }

            await ReleaseAsync(pooled).ConfigureAwait(false);
        }

        if (!entry.TryReserve())
        {
            return null;
        }

        try
        {
            var started = await launcher.StartAsync(server, entry.Options, cancellationToken).ConfigureAwait(false);
            Refill(entry);
            return started;
        }
        catch
        {
            entry.Unreserve();
            throw;
        }
    }

    /// <summary>Stops a process and frees its place.</summary>
    public async ValueTask ReleaseAsync(StdioProcess process)
    {
        await process.DisposeAsync().ConfigureAwait(false);
        if (_servers.TryGetValue(process.Server, out var entry))
        {
            entry.Unreserve();
            Refill(entry);
        }
    }

    /// <summary>Starts the warm pool of a server.</summary>
    public async Task WarmAsync(string server, StdioServerOptions options) => Refill(await EntryFor(server, options).ConfigureAwait(false));

    /// <summary>How many processes of a server are running or starting, pooled or in a session.</summary>
    public int CountOf(string server) => _servers.TryGetValue(server, out var entry) ? entry.Live : 0;

    private async Task<ServerProcesses> EntryFor(string server, StdioServerOptions options)
    {
        var entry = _servers.GetOrAdd(server, name => new ServerProcesses(name, options));
        if (!ReferenceEquals(entry.Options, options))
        {
            // The server's settings were edited: pooled processes were started with the old ones.
            entry.Options = options;
            while (entry.Idle.TryDequeue(out var stale))
            {
                await stale.DisposeAsync().ConfigureAwait(false);
                entry.Unreserve();
            }
        }

        return entry;
    }

    private void Refill(ServerProcesses entry)
    {
        if (entry.Idle.Count >= entry.Options.WarmPool || _stopping.IsCancellationRequested)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                // A process starting up takes a core for a while; let the session that emptied the slot have its
                // first exchange before a replacement competes with it.
                await Task.Delay(RefillDelay, timeProvider, _stopping.Token).ConfigureAwait(false);
                await entry.Refilling.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                var options = entry.Options;
                while (entry.Idle.Count < options.WarmPool && !_stopping.IsCancellationRequested && entry.TryReserve())
                {
                    try
                    {
                        entry.Idle.Enqueue(await launcher.StartAsync(entry.Server, options, _stopping.Token).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        entry.Unreserve();
                        if (ex is not OperationCanceledException)
                        {
                            LogWarmStartFailed(logger, entry.Server, ex.Message, ex is StdioStartException ? null : ex);
                        }

                        return;
                    }
                }
            }
            finally
            {
                entry.Refilling.Release();
            }
        });
    }

    /// <summary>Stops topping up warm pools; called first at shutdown, so ending sessions start nothing new.</summary>
    public void StopWarming()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _stopping.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        StopWarming();
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var entry in _servers.Values)
        {
            // A refill under way still holds the semaphore; wait for it, so nothing it started escapes the drain.
            await entry.Refilling.WaitAsync().ConfigureAwait(false);
            while (entry.Idle.TryDequeue(out var process))
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }

            entry.Refilling.Dispose();
        }

        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start a warm-pool process for server {Server}: {Reason}")]
    private static partial void LogWarmStartFailed(ILogger logger, string server, string reason, Exception? exception);

    private sealed class ServerProcesses(string server, StdioServerOptions options)
    {
        private int _live;

        public string Server { get; } = server;

        public StdioServerOptions Options { get; set; } = options;

        public ConcurrentQueue<StdioProcess> Idle { get; } = new();

        public SemaphoreSlim Refilling { get; } = new(1, 1);

        public int Live => Volatile.Read(ref _live);

        public bool TryReserve()
        {
            if (Interlocked.Increment(ref _live) <= Options.MaxProcesses)
            {
                return true;
            }

            Interlocked.Decrement(ref _live);
            return false;
        }

        public void Unreserve() => Interlocked.Decrement(ref _live);
    }
}
