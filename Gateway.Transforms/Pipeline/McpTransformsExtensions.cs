using Gateway.Transforms.Forwarding;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.Policy;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Telemetry;
using Gateway.Transforms.UpstreamTokens;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Health;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers YARP with the gateway's MCP transforms and what they need.</summary>
public static class McpTransformsExtensions
{
    /// <summary>
    /// Adds YARP, the transforms of <see cref="McpPipeline"/> on every route carrying <see cref="McpRouteMetadata.Server"/>,
    /// session sealing, and the upstream token strategies with their cache. Needs Data Protection from the host; a
    /// distributed cache, when the host registers one, becomes the token cache's second level.
    /// </summary>
    public static IReverseProxyBuilder AddMcpTransforms(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SessionIdSealer>();
        services.AddMetrics();
        services.TryAddSingleton<McpMetrics>();
        services.AddHttpClient(IdentityProviderHttp.ClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<IUpstreamTokenIssuer, TokenExchangeIssuer>();
        services.AddSingleton<IUpstreamTokenIssuer, ClientCredentialsIssuer>();
        services.AddSingleton<UpstreamTokenCache>();
        services.AddHybridCache().AddSerializer<UpstreamToken, ProtectedTokenSerializer>();
        services.AddSingleton<StaticHeadersTransform>();
        services.AddSingleton<BridgeBusyTransform>();
        services.AddSingleton<UpstreamTokenTransform>();
        services.AddSingleton<SessionIdResponseTransform>();
        services.AddSingleton<ListFilterTransform>();
        services.AddSingleton<EventStreamStartTransform>();
        services.AddSingleton<McpTransforms>();

        // YARP leaves a destination out for the longer of the reactivation period and its detection window (60 s).
        services.Configure<TransportFailureRateHealthPolicyOptions>(o => o.DetectionWindowSize = McpProxyConfigProvider.PassiveReactivationPeriod);
        return services.AddReverseProxy().AddTransforms<McpTransformProvider>();
    }
}
