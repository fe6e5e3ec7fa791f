using Gateway.Transforms.Headers;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Telemetry;
using Gateway.Transforms.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms.Mcp;

/// <summary>Adds the gateway's MCP transforms to every route marked with <see cref="McpRouteMetadata.Server"/>.</summary>
internal sealed class McpTransformProvider(SessionIdSealer sealer, IUpstreamAuthCatalog upstreamAuth, UpstreamTokenCache tokens, McpMetrics metrics) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
        if (context.Route.Metadata?.TryGetValue(McpRouteMetadata.Server, out var server) == true && string.IsNullOrWhiteSpace(server))
        {
            context.Errors.Add(new ArgumentException($"Route '{context.Route.RouteId}' has an empty '{McpRouteMetadata.Server}' metadata value."));
        }
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata?.TryGetValue(McpRouteMetadata.Server, out var server) != true || server is null)
        {
            return;
        }

        // /mcp/<server> is the gateway's address for the server; the destination address is the whole upstream endpoint.
        context.AddPathRemovePrefix(new PathString(context.Route.Match.Path));

        // The caller's credentials and cookies are for the gateway, never for an upstream.
        context.AddRequestHeaderRemove(HeaderNames.Authorization);
        context.AddRequestHeaderRemove(HeaderNames.Cookie);
        context.AddResponseHeaderRemove(HeaderNames.SetCookie, ResponseCondition.Always);
        if (upstreamAuth.Find(server) is { Strategy: not UpstreamAuthStrategies.None } auth)
        {
            context.RequestTransforms.Add(new UpstreamTokenTransform(server, auth, tokens));
        }

        context.RequestTransforms.Add(new ConnectionNominatedRequestHeadersTransform());
        context.ResponseTransforms.Add(new ConnectionNominatedResponseHeadersTransform());
        context.RequestTransforms.Add(new SessionIdRequestTransform());
        context.ResponseTransforms.Add(new SessionIdResponseTransform(sealer, server));
        context.ResponseTransforms.Add(new EventStreamStartTransform(metrics));
        context.RequestTransforms.Add(new UpstreamCallStartTransform());
    }
}
