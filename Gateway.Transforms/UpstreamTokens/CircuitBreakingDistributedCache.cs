using System.Diagnostics.Metrics;
using Gateway.Transforms.Redis;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>
/// The token cache's shared level (Redis) behind a circuit breaker: while Redis is unreachable, reads miss and writes
/// are dropped at once, so the gateway keeps serving from memory instead of waiting on timeouts. Failures are
/// logged, counted (<c>gateway.token_cache.l2_failures</c>) and shown by the <c>token-cache</c> health check.
/// </summary>
internal sealed class CircuitBreakingDistributedCache : IDistributedCache
{
    public const string MeterName = "Gateway.TokenCache";
    private readonly IDistributedCache _inner;
    private readonly RedisCircuit _circuit;
    private readonly Counter<long> _failures;

    public CircuitBreakingDistributedCache(IDistributedCache inner, TimeProvider time, IMeterFactory meters, ILogger<CircuitBreakingDistributedCache> logger)
    {
        _inner = inner;
        _circuit = new RedisCircuit("Token cache", time, logger);
        _failures = meters.Create(MeterName).CreateCounter<long>("gateway.token_cache.l2_failures", description: "Token cache operations on Redis that failed or were skipped while it is unreachable.");
    }

    /// <summary>Whether Redis is in use; false while the circuit is open.</summary>
    public bool Available => _circuit.Available;

    public byte[]? Get(string key) => Run(static s => s.Inner.Get(s.Key), new Call(_inner, key, null, null));

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        await RunAsync(static (s, ct) => new ValueTask<byte[]?>(s.Inner.GetAsync(s.Key, ct)), new Call(_inner, key, null, null), token).ConfigureAwait(false);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) =>
        Run(static s =>
        {
            s.Inner.Set(s.Key, s.Value!, s.Options!);
            return (byte[]?)null;
        }, new Call(_inner, key, value, options));

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        RunAsync(static async (s, ct) =>
        {
            await s.Inner.SetAsync(s.Key, s.Value!, s.Options!, ct).ConfigureAwait(false);
            return (byte[]?)null;
        }, new Call(_inner, key, value, options), token).AsTask();

    public void Refresh(string key) =>
        Run(static s =>
        {
            s.Inner.Refresh(s.Key);
            return (byte[]?)null;
        }, new Call(_inner, key, null, null));

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        RunAsync(static async (s, ct) =>
        {
            await s.Inner.RefreshAsync(s.Key, ct).ConfigureAwait(false);
            return (byte[]?)null;
        }, new Call(_inner, key, null, null), token).AsTask();

    public void Remove(string key) =>
        Run(static s =>
        {
            s.Inner.Remove(s.Key);
            return (byte[]?)null;
        }, new Call(_inner, key, null, null));

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        RunAsync(static async (s, ct) =>
        {
            await s.Inner.RemoveAsync(s.Key, ct).ConfigureAwait(false);
            return (byte[]?)null;
        }, new Call(_inner, key, null, null), token).AsTask();

    private byte[]? Run(Func<Call, byte[]?> operation, Call call)
    {
        var (succeeded, value) = _circuit.TryRun(operation, call);
        return Counted(succeeded, value);
    }

    private async ValueTask<byte[]?> RunAsync(Func<Call, CancellationToken, ValueTask<byte[]?>> operation, Call call, CancellationToken cancellationToken)
    {
        var (succeeded, value) = await _circuit.TryRunAsync(operation, call, cancellationToken).ConfigureAwait(false);
        return Counted(succeeded, value);
    }

    private byte[]? Counted(bool succeeded, byte[]? value)
    {
        if (!succeeded)
        {
            // A miss or a dropped write: the token comes from (or stays in) this replica's memory instead.
            _failures.Add(1);
        }

        return value;
    }

    private sealed record Call(IDistributedCache Inner, string Key, byte[]? Value, DistributedCacheEntryOptions? Options);
}
