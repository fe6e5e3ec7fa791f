using System.Diagnostics.Metrics;
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
internal sealed class CallerRateLimiter
{
    private const string KeyPrefix = "mcp-gateway:rate-limit:v1:";
    private const int SweepEvery = 4096;

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

    private readonly LocalBuckets _local;
    private readonly Task<IConnectionMultiplexer>? _redis;
    private readonly RedisCircuit _circuit;
    private readonly Counter<long> _localDecisions;
    private long _localDecisionCount;

    public CallerRateLimiter(RoutesConfigStore routes, RedisConnections connections, TimeProvider time, IMeterFactory meters, ILogger<CallerRateLimiter> logger)
    {
        _local = new LocalBuckets(time);
        _circuit = new RedisCircuit("Rate limits", time, logger);
        _localDecisions = meters.Create(McpMetrics.MeterName).CreateCounter<long>(
            "mcp.gateway.rate_limit.local_decisions", "{request}", "Rate-limit decisions taken in this replica's memory because Redis is not configured or unreachable.");
        if (routes.Startup.RateLimiting.Redis is { Length: > 0 } connection)
        {
            _redis = connections.GetAsync(connection);
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
                    var redis = await s.Redis.ConfigureAwait(false);
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
        if (Interlocked.Increment(ref _localDecisionCount) % SweepEvery == 0)
        {
            // Buckets that filled up again are the same as none; forgetting them keeps memory to the active callers.
            _local.Sweep(static _ => true);
        }

        return _local.TryTake($"{scope}\n{caller}\n{limit.RequestsPerMinute}\n{burst}", interval, burst);
    }

    /// <summary>Drops this replica's buckets of the servers <paramref name="isConfigured"/> no longer knows.</summary>
    public void Retain(Func<string, bool> isConfigured) => _local.Sweep(key => isConfigured(ServerOf(key)));

    /// <summary>The server a bucket belongs to: its scope is <c>&lt;server&gt;</c> or <c>&lt;server&gt;/&lt;tool&gt;</c>.</summary>
    private static string ServerOf(string key)
    {
        var scope = key[..key.IndexOf('\n', StringComparison.Ordinal)];
        var slash = scope.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? scope : scope[..slash];
    }
}
