using Gateway.Transforms.Configuration;
using Gateway.Transforms.Redis;
using Gateway.Transforms.UpstreamTokens;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Redis as the token cache's second level, shared by replicas, behind a circuit breaker.</summary>
public static class RedisTokenCacheExtensions
{
    internal static IServiceCollection AddRedisTokenCache(this IServiceCollection services, string connectionString, RedisConnections redis)
    {
        var options = new RedisCacheOptions { ConnectionMultiplexerFactory = () => redis.GetAsync(connectionString) };
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RedisCache>(sp, Microsoft.Extensions.Options.Options.Create(options)));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<CircuitBreakingDistributedCache>(sp, (IDistributedCache)sp.GetRequiredService<RedisCache>()));
        services.AddSingleton<IDistributedCache>(sp => sp.GetRequiredService<CircuitBreakingDistributedCache>());
        services.AddHealthChecks().AddCheck<TokenCacheHealthCheck>("token-cache", tags: [RoutesHealthCheck.ReadyTag]);
        return services;
    }
}
