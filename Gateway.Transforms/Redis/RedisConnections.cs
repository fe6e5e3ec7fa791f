using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Gateway.Transforms.Redis;

/// <summary>
/// One connection per Redis connection string, shared by every feature that uses that Redis (the session key ring,
/// the token cache, rate limits). Connecting starts when a feature first asks and never blocks start-up: an
/// unreachable Redis is retried in the background while the features fall back to memory.
/// </summary>
internal sealed class RedisConnections : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IConnectionMultiplexer>>> _connections = new(StringComparer.Ordinal);

    /// <summary>The shared connection to <paramref name="connectionString"/>, connecting on first use.</summary>
    public Task<IConnectionMultiplexer> GetAsync(string connectionString)
    {
        var options = RedisCircuit.ConnectionOptions(connectionString);
        return _connections.GetOrAdd(options.ToString(), static (_, o) => new Lazy<Task<IConnectionMultiplexer>>(() => Connect(o)), options).Value;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections.Values.Where(c => c.IsValueCreated))
        {
            await (await connection.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<IConnectionMultiplexer> Connect(ConfigurationOptions options) =>
        await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
}
