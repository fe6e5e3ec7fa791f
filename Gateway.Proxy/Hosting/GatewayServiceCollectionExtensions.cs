using System.Security.Cryptography;
using Gateway.Proxy.Api;
using Gateway.Proxy.Stdio;
using Gateway.StdioBridge.Configuration;
using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Forwarding;
using Gateway.Transforms.Guard;
using Gateway.Transforms.Limits;
using Gateway.Transforms.Redis;
using Gateway.Transforms.Resilience;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Shutdown;
using Gateway.Transforms.UpstreamTokens;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway: routes, YARP, session sealing, health and the services API.</summary>
public static class GatewayServiceCollectionExtensions
{
    // The in-process bridge listens on loopback only, on a port the OS picks; the proxy routes learn it at start-up.
    private const string StdioBridgeUrl = "http://127.0.0.1:0";

    public static IServiceCollection AddMcpGateway(this IServiceCollection services, RoutesFile routesFile, RoutesOptions initialRoutes)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(initialRoutes);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(routesFile);
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RoutesConfigStore>(sp, initialRoutes));
        services.AddSingleton<OriginPolicy>();
        services.AddSingleton<McpUpstreamProbe>();
        services.AddHttpClient(McpUpstreamProbe.HttpClientName);

        services.AddMcpSessionKeyRing(initialRoutes.Gateway);
        services.Configure<SessionPinningOptions>(o => o.Lifetime = initialRoutes.Gateway.Sessions.Lifetime);

        services.AddSingleton<IStdioServerCatalog, RoutesStdioCatalog>();
        services.AddSingleton(sp => StdioBridgeHost.Create(
            sp.GetRequiredService<IStdioServerCatalog>(), StdioBridgeUrl, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>(),
            accessKey: Convert.ToHexString(RandomNumberGenerator.GetBytes(32))));
        services.AddHostedService<StdioBridgeService>();
        services.AddSingleton<StdioBridgeMetrics>();
        services.AddSingleton<UpstreamAddresses>();
        services.AddSingleton<DestinationCircuitBreakers>();
        services.AddSingleton(sp => new ProcessStart(sp.GetRequiredService<TimeProvider>().GetUtcNow()));
        services.AddSingleton<CallerRateLimiter>();

        services.AddGatewayAuthentication(initialRoutes.Gateway);
        services.Configure<UpstreamTokenCacheOptions>(o =>
        {
            o.SafetyMargin = initialRoutes.Gateway.TokenCache.SafetyMargin;
            o.FailureLifetime = initialRoutes.Gateway.TokenCache.FailureLifetime;
        });
        services.AddMcpTransforms();
        services.AddSingleton<IProxyConfigProvider, McpProxyConfigProvider>();
        services.AddSingleton<IForwarderHttpClientFactory, McpForwarderHttpClientFactory>();
        services.AddSingleton<IActiveHealthCheckPolicy, McpEndpointHealthPolicy>();

        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(sp => sp.GetRequiredService<GracefulShutdown>());
        services.Configure<HostOptions>(o => o.ShutdownTimeout = initialRoutes.Gateway.Shutdown.GracePeriod);
        var health = services.AddHealthChecks()
            .AddCheck<RoutesHealthCheck>("routes", tags: [RoutesHealthCheck.ReadyTag])
            .AddCheck<ShutdownHealthCheck>("shutdown", tags: [RoutesHealthCheck.ReadyTag]);
        if (!string.IsNullOrWhiteSpace(initialRoutes.Gateway.TokenCache.Redis))
        {
            services.AddRedisTokenCache(initialRoutes.Gateway.TokenCache.Redis);
            health.AddCheck<TokenCacheHealthCheck>("token-cache", tags: [RoutesHealthCheck.ReadyTag]);
        }

        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJsonContext.Default));
        return services;
    }

    /// <summary>Redis as the token cache's second level, shared by replicas, behind a circuit breaker.</summary>
    private static void AddRedisTokenCache(this IServiceCollection services, string connectionString)
    {
        var options = RedisCircuit.ConnectionOptions(connectionString);
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RedisCache>(sp, Options.Options.Create(new RedisCacheOptions { ConfigurationOptions = options })));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<CircuitBreakingDistributedCache>(sp, (IDistributedCache)sp.GetRequiredService<RedisCache>()));
        services.AddSingleton<IDistributedCache>(sp => sp.GetRequiredService<CircuitBreakingDistributedCache>());
    }

    /// <summary>The key ring that seals session ids; every replica of a deployment must share it.</summary>
    private static void AddMcpSessionKeyRing(this IServiceCollection services, GatewayOptions gateway)
    {
        var settings = gateway.DataProtection;
        var dataProtection = services.AddDataProtection().SetApplicationName(settings.ApplicationName);
        if (!string.IsNullOrWhiteSpace(settings.KeysDirectory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(settings.KeysDirectory));
        }
        else if (!string.IsNullOrWhiteSpace(settings.Redis))
        {
            // abortConnect=false: an unreachable Redis must not stop the gateway from starting; the key ring
            // is read when the first session is sealed or opened.
            var options = ConfigurationOptions.Parse(settings.Redis);
            options.AbortOnConnectFail = false;
            var redis = new Lazy<IConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(options));
            dataProtection.PersistKeysToStackExchangeRedis(() => redis.Value.GetDatabase(), settings.RedisKey);
        }
    }
}
