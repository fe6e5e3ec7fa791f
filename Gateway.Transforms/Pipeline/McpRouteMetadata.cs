using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Yarp.ReverseProxy.Model;

namespace Gateway.Transforms.Pipeline;

/// <summary>The YARP route metadata keys by which a route is known as an MCP server's route.</summary>
public static class McpRouteMetadata
{
    /// <summary>The configured server name; its presence marks a route as an MCP route.</summary>
    public const string Server = "Mcp.Server";

    /// <summary>The gateway path of a server: <c>/mcp/&lt;name&gt;</c>.</summary>
    public static string PathOf(string server) => "/mcp/" + server;

    /// <summary>The server whose route the request matched, or null for other endpoints; usable before the proxy pipeline.</summary>
    public static string? ServerOf(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        return metadata?.GetMetadata<VirtualServerEndpointMetadata>() is not null
            ? context.GetRouteValue("server") as string
            : metadata?.GetMetadata<RouteModel>()?.Config.Metadata?.GetValueOrDefault(Server);
    }
}

/// <summary>Marks the endpoints of the virtual servers, whose name is the route's <c>server</c> value.</summary>
public sealed class VirtualServerEndpointMetadata;
