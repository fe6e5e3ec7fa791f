namespace Gateway.Transforms.Configuration;

/// <summary>
/// What of routes.yaml applies while the gateway runs: the servers and the gateway-wide keys an edit changes at
/// once. The keys read at start-up only are <see cref="StartupOptions"/>.
/// </summary>
public sealed record RoutesOptions
{
    /// <summary>The MCP servers by name; each is served at <c>/mcp/&lt;name&gt;</c>.</summary>
    public IReadOnlyDictionary<string, McpServerOptions> Servers { get; init; } = new Dictionary<string, McpServerOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The reloadable keys of the <c>gateway:</c> section.</summary>
    public GatewayOptions Gateway { get; init; } = new();
}

/// <summary>The keys of the <c>gateway:</c> section that apply to every server and that an edit changes at once.</summary>
public sealed record GatewayOptions
{
    /// <summary>The largest POST body accepted, in bytes; larger bodies are answered 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Browser origins allowed to call the gateway (exact <c>scheme://host[:port]</c>).</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>Whether loopback origins (<c>http://localhost:*</c>, <c>http://127.0.0.1:*</c>) are allowed; unset means only in Development.</summary>
    public bool? AllowLoopbackOrigins { get; init; }

    /// <summary>
    /// The gateway's public base URL as clients see it (e.g. <c>https://gateway.example.com</c>); each server's
    /// resource is <c>&lt;publicUrl&gt;/mcp/&lt;name&gt;</c>. Unset: taken from each request's scheme and host.
    /// </summary>
    public string? PublicUrl { get; init; }
}
