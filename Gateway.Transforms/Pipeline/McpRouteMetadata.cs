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

    /// <summary>
    /// The server whose route the request matched, or null for other endpoints; usable before the proxy pipeline. A
    /// virtual server's name is the route's value, which routing matched without regard to case: <paramref name="names"/>
    /// gives the configured spelling, so that limits, metrics and sessions know one server by one name.
    /// </summary>
    public static string? ServerOf(HttpContext context, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var metadata = context.GetEndpoint()?.Metadata;
        return metadata?.GetMetadata<VirtualServerEndpointMetadata>() is not null
            ? context.GetRouteValue("server") is string name ? names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) : null
            : metadata?.GetMetadata<RouteModel>()?.Config.Metadata?.GetValueOrDefault(Server);
    }
}

/// <summary>Marks the endpoints of the virtual servers, whose name is the route's <c>server</c> value.</summary>
public sealed class VirtualServerEndpointMetadata;
