using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms.Pipeline;

/// <summary>Gives every route marked with <see cref="McpRouteMetadata.Server"/> the transforms of <see cref="McpPipeline.AddTransforms"/>.</summary>
internal sealed class McpTransformProvider(McpTransforms transforms) : ITransformProvider
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
        if (context.Route.Metadata?.ContainsKey(McpRouteMetadata.Server) == true)
        {
            McpPipeline.AddTransforms(context, transforms);
        }
    }
}
