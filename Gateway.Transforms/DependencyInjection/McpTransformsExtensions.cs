using Gateway.Transforms.Mcp;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Telemetry;
using Gateway.Transforms.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's MCP transforms and proxy-pipeline steps.</summary>
public static class McpTransformsExtensions
{
    /// <summary>
    /// Adds session sealing and the MCP request/response transforms to every route carrying
    /// <see cref="McpRouteMetadata.Server"/>, and the upstream token strategies with their cache. Needs Data
    /// Protection and an <see cref="IUpstreamAuthCatalog"/> from the host; a distributed cache, when the host
    /// registers one, becomes the token cache's second level.
    /// </summary>
    public static IReverseProxyBuilder AddMcpTransforms(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<SessionIdSealer>();
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<McpMetrics>();
        builder.Services.AddOptions<SessionPinningOptions>();
        builder.Services.AddHttpClient(IdentityProviderHttp.ClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<IUpstreamTokenIssuer, TokenExchangeIssuer>();
        builder.Services.AddSingleton<IUpstreamTokenIssuer, ClientCredentialsIssuer>();
        builder.Services.AddOptions<UpstreamTokenCacheOptions>();
        builder.Services.AddSingleton<UpstreamTokenCache>();
        builder.Services.AddHybridCache().AddSerializer<UpstreamToken, ProtectedTokenSerializer>();
        builder.AddTransforms<McpTransformProvider>();
        return builder;
    }

    /// <summary>Pins requests carrying a sealed session id to their destination; place it before load balancing.</summary>
    public static IReverseProxyApplicationBuilder UseMcpSessionPinning(this IReverseProxyApplicationBuilder pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        pipeline.UseMiddleware<SessionPinningMiddleware>();
        return pipeline;
    }
}
