namespace Gateway.Transforms.Mcp;

/// <summary>The YARP route metadata keys by which a route is known as an MCP server's route.</summary>
public static class McpRouteMetadata
{
    /// <summary>The configured server name; its presence marks a route as an MCP route.</summary>
    public const string Server = "Mcp.Server";
}
