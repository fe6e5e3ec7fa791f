using System.Runtime.Serialization;
using Gateway.StdioBridge.Configuration;
using Gateway.Transforms.Forwarding;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Limits;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Policy;
using Gateway.Transforms.Resilience;
using Gateway.Transforms.Telemetry;
using Gateway.Transforms.UpstreamTokens;
using Gateway.Transforms.VirtualServers;

namespace Gateway.Transforms.Configuration;

/// <summary>One MCP server: <c>servers.&lt;name&gt;</c>. Each section is owned, and validated, by its feature.</summary>
public sealed record McpServerOptions
{
    /// <summary>How the gateway reaches the server.</summary>
    public McpTransport Transport { get; init; } = McpTransport.Http;

    /// <summary>How to run a <c>stdio</c> server; only for that transport.</summary>
    public StdioServerOptions? Stdio { get; init; }

    /// <summary>The upstream MCP endpoints of an <c>http</c> server; new sessions are spread over the healthy ones.</summary>
    public IReadOnlyList<DestinationOptions> Destinations { get; init; } = [];

    /// <summary>How new sessions and session-less requests pick a destination: the name of a YARP load-balancing policy.</summary>
    public string LoadBalancing { get; init; } = "PowerOfTwoChoices";

    /// <summary>Timeouts toward the upstream.</summary>
    public TimeoutOptions Timeouts { get; init; } = new();

    /// <summary>Headers set on every request to the upstream (e.g. an API key the upstream wants).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Overrides <see cref="GatewayOptions.MaxRequestBodyBytes"/> for this server.</summary>
    public long? MaxRequestBodyBytes { get; init; }

    /// <summary>Active probing of the destinations, so new sessions avoid dead ones.</summary>
    public HealthProbeOptions HealthCheck { get; init; } = new();

    /// <summary>How many requests each caller may send to this server, and to each of its tools.</summary>
    public RateLimitOptions? RateLimit { get; init; }

    /// <summary>What the audit log records of this server's requests beyond the defaults.</summary>
    public AuditOptions Audit { get; init; } = new();

    /// <summary>When to stop sending to a destination that keeps failing.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();

    /// <summary>The tools any caller may use (globs on names): refused calls are answered as for an unknown tool.</summary>
    public AccessListOptions Tools { get; init; } = new();

    /// <summary>The resources any caller may read or subscribe to (globs on URIs).</summary>
    public AccessListOptions Resources { get; init; } = new();

    /// <summary>The prompts any caller may get (globs on names).</summary>
    public AccessListOptions Prompts { get; init; } = new();

    /// <summary>Rules by caller, tried in order after the lists: the first that matches the caller and the target decides.</summary>
    public IReadOnlyList<PolicyRuleOptions> Policy { get; init; } = [];

    /// <summary>What a tool, resource or prompt no rule matches is for a caller: <c>allow</c> (the default) or <c>deny</c>.</summary>
    public PolicyAction PolicyDefault { get; init; } = PolicyAction.Allow;

    /// <summary>How the definitions of the server's tools are held to their pins.</summary>
    public ToolPinningOptions ToolPinning { get; init; } = new();

    /// <summary>What callers of this server must present.</summary>
    public ServerAuthOptions Auth { get; init; } = new();

    /// <summary>What the gateway presents to this server's upstream.</summary>
    public UpstreamAuthOptions UpstreamAuth { get; init; } = new();

    /// <summary>The servers a <c>virtual</c> server serves as one, each through its own route's machinery.</summary>
    public IReadOnlyList<string> Members { get; init; } = [];

    /// <summary>How a <c>virtual</c> server names its members' tools and prompts.</summary>
    public ToolNaming ToolNames { get; init; } = ToolNaming.Prefixed;

    /// <summary>How long a <c>virtual</c> server waits on a member for its session and lists before leaving it out.</summary>
    public TimeSpan MemberTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>How the gateway reaches a server: <c>servers.&lt;name&gt;.transport</c>.</summary>
public enum McpTransport
{
    /// <summary>A streamable-HTTP endpoint.</summary>
    [EnumMember(Value = "http")]
    Http,

    /// <summary>A local program the gateway runs behind its bridge.</summary>
    [EnumMember(Value = "stdio")]
    Stdio,

    /// <summary>Other configured servers (<c>members</c>), served as one MCP server by the gateway itself.</summary>
    [EnumMember(Value = "virtual")]
    Virtual,
}
