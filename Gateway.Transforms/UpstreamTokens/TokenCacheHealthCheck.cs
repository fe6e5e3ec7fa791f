using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>Degraded while the token cache runs without Redis: still serving, but each replica asks the IdP on its own.</summary>
internal sealed class TokenCacheHealthCheck(CircuitBreakingDistributedCache cache) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(cache.Available
            ? HealthCheckResult.Healthy("Redis token cache reachable.")
            : HealthCheckResult.Degraded("Redis token cache unreachable; tokens are cached in memory only."));
}
