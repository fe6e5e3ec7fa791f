using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace Gateway.Proxy.Caching;

/// <summary>
/// The token cache's shared level (Redis) behind a circuit breaker: while Redis is unreachable, reads miss and writes
/// are dropped at once, so the gateway keeps serving from memory instead of waiting on timeouts. Failures are
/// logged, counted (<c>gateway.token_cache.l2_failures</c>) and shown by the <c>token-cache</c> health check.
/// </summary>
internal sealed partial class CircuitBreakingDistributedCache : IDistributedCache
{
    public const string MeterName = "Gateway.TokenCache";
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(1);
    private readonly IDistributedCache _inner;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly Counter<long> _failures;
    private readonly ILogger<CircuitBreakingDistributedCache> _logger;

    public CircuitBreakingDistributedCache(IDistributedCache inner, TimeProvider time, IMeterFactory meters, ILogger<CircuitBreakingDistributedCache> logger)
    {
        _inner = inner;
        _logger = logger;
        _failures = meters.Create(MeterName).CreateCounter<long>("gateway.token_cache.l2_failures", description: "Token cache operations on Redis that failed or were skipped while it is unreachable.");
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromSeconds(15),
                StateProvider = _state,
                ShouldHandle = new PredicateBuilder().Handle<RedisException>().Handle<TimeoutRejectedException>().Handle<TimeoutException>(),
                OnOpened = args =>
                {
                    LogOpened(_logger, args.BreakDuration, args.Outcome.Exception?.Message);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    LogClosed(_logger);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(OperationTimeout)
            .Build();
    }

    /// <summary>Whether Redis is in use; false while the circuit is open.</summary>
    public bool Available => _state.CircuitState is CircuitState.Closed or CircuitState.HalfOpen;

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        await RunAsync(static (s, ct) => new ValueTask<byte[]?>(s.Inner.GetAsync(s.Key, ct)), new Call(_inner, key, null, null), token).ConfigureAwait(false);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        RunAsync(static async (s, ct) =>
        {
            await s.Inner.SetAsync(s.Key, s.Value!, s.Options!, ct).ConfigureAwait(false);
            return (byte[]?)null;
        }, new Call(_inner, key, value, options), token).AsTask();

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        RunAsync(static async (s, ct) =>
        {
            await s.Inner.RefreshAsync(s.Key, ct).ConfigureAwait(false);
            return (byte[]?)null;
        }, new Call(_inner, key, null, null), token).AsTask();

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        RunAsync(static async (s, ct) =>
        {
            await s.Inner.RemoveAsync(s.Key, ct).ConfigureAwait(false);
            return (byte[]?)null;
        }, new Call(_inner, key, null, null), token).AsTask();

    private async ValueTask<byte[]?> RunAsync(Func<Call, CancellationToken, ValueTask<byte[]?>> operation, Call call, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(static (state, ct) => state.Operation(state.Call, ct), (Operation: operation, Call: call), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BrokenCircuitException or RedisException or TimeoutRejectedException or TimeoutException)
        {
            // A miss or a dropped write: the token comes from (or stays in) this replica's memory instead.
            _failures.Add(1);
            if (ex is not BrokenCircuitException)
            {
                LogFailed(_logger, ex.Message);
            }

            return null;
        }
    }

    private sealed record Call(IDistributedCache Inner, string Key, byte[]? Value, DistributedCacheEntryOptions? Options);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Token cache: Redis failed ({Detail}); serving from memory.")]
    private static partial void LogFailed(ILogger logger, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Token cache: Redis is unreachable; tokens are cached in this replica's memory only for the next {BreakDuration}. {Detail}")]
    private static partial void LogOpened(ILogger logger, TimeSpan breakDuration, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Token cache: Redis is reachable again.")]
    private static partial void LogClosed(ILogger logger);
}
