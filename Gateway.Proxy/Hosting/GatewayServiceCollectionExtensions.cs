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
using Gateway.Transforms.Shutdown;
using Gateway.Transforms.VirtualServers;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway: routes, YARP, session sealing, health and the services API.</summary>
public static class GatewayServiceCollectionExtensions
{
    // The in-process bridge listens on loopback only, on a port the OS picks; the proxy routes learn it at start-up.
    private const string StdioBridgeUrl = "http://127.0.0.1:0";

    public static IServiceCollection AddMcpGateway(this IServiceCollection services, RoutesFile routesFile, GatewayConfiguration configuration, MemberCallEndpoint members)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var startup = configuration.Startup;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(routesFile);
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RoutesConfigStore>(sp, configuration));
        services.AddSingleton(Options.Options.Create(startup.Sessions));
        services.AddSingleton(Options.Options.Create(startup.TokenCache));
        services.AddSingleton<OriginPolicy>();
        services.AddCors().Replace(ServiceDescriptor.Singleton<ICorsPolicyProvider, McpCorsPolicyProvider>());
        services.AddSingleton<McpUpstreamProbe>();
        services.AddHttpClient(McpUpstreamProbe.HttpClientName);

        var redis = new RedisConnections();
        // Registered by factory, so that the container disposes the connections with the gateway.
        services.AddSingleton(_ => redis);
        services.AddMcpSessionKeyRing(startup.DataProtection, redis);
        services.AddToolPins(startup, redis);
        services.AddVirtualServers(startup, redis, members);

        services.AddSingleton<IStdioServerCatalog, RoutesStdioCatalog>();
        services.AddSingleton(sp => StdioBridgeHost.Create(
            sp.GetRequiredService<IStdioServerCatalog>(), StdioBridgeUrl, new BridgeLoggerFactory(sp.GetRequiredService<ILoggerFactory>()), sp.GetRequiredService<TimeProvider>(),
            accessKey: Convert.ToHexString(RandomNumberGenerator.GetBytes(32))));
        services.AddHostedService<StdioBridgeService>();
        services.AddSingleton<StdioBridgeMetrics>();
        services.AddSingleton<UpstreamAddresses>();
        services.AddSingleton<DestinationCircuitBreakers>();
        services.AddSingleton(sp => new ProcessStart(sp.GetRequiredService<TimeProvider>().GetUtcNow()));
        services.AddSingleton<CallerRateLimiter>();
        services.AddSingleton<RemovedServerState>();

        services.AddTrustedProxies(startup.TrustedProxies);
        services.AddGatewayAuthentication(startup.Auth);
        services.AddMcpTransforms();
        services.AddSingleton<IProxyConfigProvider, McpProxyConfigProvider>();
        services.AddSingleton<IForwarderHttpClientFactory, McpForwarderHttpClientFactory>();
        services.AddSingleton<IActiveHealthCheckPolicy, McpEndpointHealthPolicy>();
        services.AddLogging(logging => logging.AddFilter(McpEndpointHealthPolicy.ProbeLogCategory, LogLevel.Error));

        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(sp => sp.GetRequiredService<GracefulShutdown>());
        services.Configure<HostOptions>(o => o.ShutdownTimeout = startup.Shutdown.GracePeriod);
        services.AddHealthChecks()
            .AddCheck<RoutesHealthCheck>("routes", tags: [RoutesHealthCheck.ReadyTag])
            .AddCheck<ShutdownHealthCheck>("shutdown", tags: [RoutesHealthCheck.ReadyTag]);
        if (startup.TokenCache.Redis is { Length: > 0 } tokenCacheRedis)
        {
            services.AddRedisTokenCache(tokenCacheRedis, redis);
        }

        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJsonContext.Default));
        return services;
    }
}
