using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Redis;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Transforms.Limits;

/// <summary>
/// Token buckets per caller, shared by all replicas through Redis (one atomic script per request, on Redis's clock),
/// or kept in this replica's memory when no Redis is configured or while it is unreachable: limits then hold per
/// replica instead of failing open or closed, and the fallback is logged and counted.
/// </summary>
internal sealed class CallerRateLimiter : IAsyncDisposable
{
    private const string KeyPrefix = "mcp-gateway:rate-limit:v1:";

    // GCRA, the token bucket as one timestamp: the bucket is empty until the "theoretical arrival time" minus its
    // size. Answers 0 to allow, else the milliseconds until the next token.
    private const string Script = """
        redis.replicate_commands()
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local interval = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local tat = tonumber(redis.call('GET', KEYS[1]))
        if not tat or tat < now then tat = now end
        local next_tat = tat + interval
        local limit = now + interval * burst
        if next_tat > limit then return next_tat - limit end
        redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(next_tat - now))
        return 0
        """;

    private readonly PartitionedRateLimiter<LocalBucket> _local;
    private readonly Lazy<Task<ConnectionMultiplexer>>? _redis;
    private readonly RedisCircuit _circuit;
    private readonly Counter<long> _localDecisions;

    public CallerRateLimiter(RoutesConfigStore routes, TimeProvider time, IMeterFactory meters, ILogger<CallerRateLimiter> logger)
    {
        _local = PartitionedRateLimiter.Create<LocalBucket, string>(bucket => RateLimitPartition.GetTokenBucketLimiter(bucket.Key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.Burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = bucket.Interval,
            QueueLimit = 0,

            // The partitioned limiter replenishes all its buckets from one timer.
            AutoReplenishment = false,
        }));
        _circuit = new RedisCircuit("Rate limits", time, logger);
        _localDecisions = meters.Create(McpMetrics.MeterName).CreateCounter<long>(
            "mcp.gateway.rate_limit.local_decisions", "{request}", "Rate-limit decisions taken in this replica's memory because Redis is not configured or unreachable.");
        if (routes.Current.Gateway.RateLimiting.Redis is { Length: > 0 } connection)
        {
            var options = RedisCircuit.ConnectionOptions(connection);
            _redis = new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(options));
        }
    }

    /// <summary>Takes a token from the bucket of <paramref name="caller"/> for <paramref name="scope"/>; null when allowed, else how long to wait.</summary>
    /// <param name="scope">What the bucket limits: <c>&lt;server&gt;</c> or <c>&lt;server&gt;/&lt;tool&gt;</c>.</param>
    /// <param name="caller">Who is calling: the caller's <see cref="Gateway.Transforms.InboundAuth.McpCaller.Id"/>, or the client address.</param>
    /// <param name="limit">The limit in force.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    public async ValueTask<TimeSpan?> TryAcquireAsync(string scope, string caller, RateLimitOptions limit, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMinutes(1) / limit.RequestsPerMinute;
        var burst = limit.EffectiveBurst;
        if (_redis is not null)
        {
            var key = new RedisKey(KeyPrefix + scope + ":" + caller);
            var (succeeded, wait) = await _circuit.TryRunAsync(
                static async (s, _) =>
                {
                    var redis = await s.Redis.Value.ConfigureAwait(false);
                    var result = await redis.GetDatabase().ScriptEvaluateAsync(Script, [s.Key], [(long)s.Interval.TotalMilliseconds, s.Burst]).ConfigureAwait(false);
                    return (long)result;
                },
                (Redis: _redis, Key: key, Interval: interval, Burst: burst),
                cancellationToken).ConfigureAwait(false);
            if (succeeded)
            {
                return wait > 0 ? TimeSpan.FromMilliseconds(wait) : null;
            }
        }

        _localDecisions.Add(1);
        using var lease = _local.AttemptAcquire(new LocalBucket($"{scope}\n{caller}\n{limit.RequestsPerMinute}\n{burst}", burst, interval));
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : interval;
    }

    public async ValueTask DisposeAsync()
    {
        await _local.DisposeAsync().ConfigureAwait(false);
        if (_redis is { IsValueCreated: true })
        {
            await (await _redis.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A bucket of this replica's own: its key (scope, caller and limit) and its shape.</summary>
    private sealed record LocalBucket(string Key, int Burst, TimeSpan Interval);
}
