using Gateway.Transforms.Mcp;
using Gateway.Transforms.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's MCP transforms and proxy-pipeline steps.</summary>
public static class McpTransformsExtensions
{
    /// <summary>
    /// Adds session sealing and the MCP request/response transforms to every route carrying
    /// <see cref="McpRouteMetadata.Server"/>. Needs Data Protection, configured by the host.
    /// </summary>
    public static IReverseProxyBuilder AddMcpTransforms(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<SessionIdSealer>();
        builder.Services.AddOptions<SessionPinningOptions>();
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
