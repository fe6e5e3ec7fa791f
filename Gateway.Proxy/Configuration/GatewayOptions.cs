using Gateway.StdioBridge.Configuration;

namespace Gateway.Proxy.Configuration;

/// <summary>The whole of routes.yaml: the servers and the gateway-wide settings.</summary>
public sealed class GatewayOptions
{
    /// <summary>The MCP servers by name; each is served at <c>/mcp/&lt;name&gt;</c>.</summary>
    public Dictionary<string, McpServerOptions> Servers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Settings that apply to every server.</summary>
    public GatewaySettings Gateway { get; init; } = new();
}

/// <summary>The <c>gateway:</c> section of routes.yaml.</summary>
public sealed class GatewaySettings
{
    /// <summary>The largest POST body accepted, in bytes; larger bodies are answered 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Browser origins allowed to call the gateway (exact <c>scheme://host[:port]</c>).</summary>
    public List<string> AllowedOrigins { get; init; } = [];

    /// <summary>Whether loopback origins (<c>http://localhost:*</c>, <c>http://127.0.0.1:*</c>) are allowed; unset means only in Development.</summary>
    public bool? AllowLoopbackOrigins { get; init; }

    /// <summary>How sealed session ids are issued (takes effect at start-up).</summary>
    public SessionSettings Sessions { get; init; } = new();

    /// <summary>Where the Data Protection key ring that seals session ids lives (takes effect at start-up).</summary>
    public DataProtectionSettings DataProtection { get; init; } = new();
}

/// <summary>The <c>gateway.sessions</c> section.</summary>
public sealed class SessionSettings
{
    /// <summary>How long a session id stays valid after <c>initialize</c>; clients re-initialize after it.</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>The <c>gateway.dataProtection</c> section: replicas must share one key ring to route each other's sessions.</summary>
public sealed class DataProtectionSettings
{
    /// <summary>A directory shared by all replicas (e.g. a volume); the default is the user profile's key ring.</summary>
    public string? KeysDirectory { get; init; }

    /// <summary>A Redis connection string; keys are kept under <see cref="RedisKey"/>.</summary>
    public string? Redis { get; init; }

    /// <summary>The Redis key of the key ring.</summary>
    public string RedisKey { get; init; } = "mcp-gateway:data-protection-keys";

    /// <summary>Isolates this deployment's keys from other applications sharing the store.</summary>
    public string ApplicationName { get; init; } = "mcp-gateway";
}

/// <summary>One MCP server: <c>servers.&lt;name&gt;</c>.</summary>
public sealed class McpServerOptions
{
    /// <summary><c>http</c> (a streamable HTTP endpoint) or <c>stdio</c> (a local process behind the bridge).</summary>
    public string Transport { get; init; } = McpTransports.Http;

    /// <summary>How to run a <c>stdio</c> server; only for that transport.</summary>
    public StdioServerOptions? Stdio { get; init; }

    /// <summary>The upstream MCP endpoints of an <c>http</c> server; new sessions are spread over the healthy ones.</summary>
    public List<DestinationOptions> Destinations { get; init; } = [];

    /// <summary>How new sessions and session-less requests pick a destination (a YARP policy name).</summary>
    public string LoadBalancing { get; init; } = "PowerOfTwoChoices";

    /// <summary>Timeouts toward the upstream.</summary>
    public TimeoutOptions Timeouts { get; init; } = new();

    /// <summary>Headers added to every request to the upstream (e.g. an API key the upstream wants).</summary>
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Overrides <see cref="GatewaySettings.MaxRequestBodyBytes"/> for this server.</summary>
    public long? MaxRequestBodyBytes { get; init; }

    /// <summary>Active probing of the destinations, so new sessions avoid dead ones.</summary>
    public HealthCheckOptions HealthCheck { get; init; } = new();
}

/// <summary>One upstream endpoint.</summary>
public sealed class DestinationOptions
{
    /// <summary>The absolute URL of the upstream MCP endpoint, e.g. <c>http://10.0.0.5:3001/mcp</c>.</summary>
    public string? Url { get; init; }
}

/// <summary><c>servers.&lt;name&gt;.timeouts</c>.</summary>
public sealed class TimeoutOptions
{
    /// <summary>How long establishing a connection to the upstream may take.</summary>
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an exchange may go without a byte in either direction before it is cut. SSE streams (standalone GET
    /// streams above all) can be quiet for long, so this is far above YARP's 100 s default.
    /// </summary>
    public TimeSpan Activity { get; init; } = TimeSpan.FromHours(1);
}

/// <summary><c>servers.&lt;name&gt;.healthCheck</c>.</summary>
public sealed class HealthCheckOptions
{
    /// <summary>Whether destinations are probed.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Time between probes.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one probe may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>The values of <see cref="McpServerOptions.Transport"/>.</summary>
public static class McpTransports
{
    public const string Http = "http";
    public const string Stdio = "stdio";
}
