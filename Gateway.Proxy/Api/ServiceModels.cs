using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Proxy.Api;

/// <summary>A configured server as the services API shows it; a virtual server has members instead of destinations.</summary>
public sealed record ServiceInfo(string Name, string Path, string Transport, string LoadBalancing, IReadOnlyList<DestinationInfo> Destinations, IReadOnlyList<string> Members);

/// <summary>A destination and what YARP's health checks last concluded about it.</summary>
public sealed record DestinationInfo(string Url, string ActiveHealth, string PassiveHealth);

/// <summary>The outcome of a live MCP probe of a server's destinations (a virtual server's: its members').</summary>
public sealed record ServiceHealth(string Name, string Status, IReadOnlyList<DestinationProbe> Destinations);

/// <summary>One destination's probe: an MCP handshake and a ping.</summary>
public sealed record DestinationProbe(string Url, bool Healthy, double LatencyMs, string? ProtocolVersion, string? ServerName, string? ServerVersion, string? Error);

/// <summary><c>GET /api/v1/dashboard/overview</c>: the gateway at a glance.</summary>
public sealed record DashboardOverview(
    int Servers, int Destinations, long Requests, long Failed, long SessionsStarted, long SessionsEnded, long OpenStreams, long RateLimited,
    int CircuitsOpen, int CircuitsHalfOpen, int ToolsHeldBack, double UptimeSeconds);

/// <summary>One server in <c>GET /api/v1/dashboard/services/health</c>.</summary>
public sealed record DashboardService(
    string Name, string Path, long Requests, long Failed, long SessionsStarted, long SessionsEnded, long OpenStreams, long RateLimited,
    int ToolsHeldBack, IReadOnlyList<DashboardDestination> Destinations);

/// <summary>A destination's health as YARP's probes see it, and its circuit.</summary>
public sealed record DashboardDestination(string Url, string ActiveHealth, string PassiveHealth, string Circuit);

/// <summary><c>GET /api/v1/services/{name}/tools</c>: the server's pinning mode, whether its first whole list was seen, and each tool's pin.</summary>
public sealed record ServiceTools(string Name, string Mode, bool Baseline, IReadOnlyList<ToolPinInfo> Tools);

/// <summary>
/// A tool's pin: its state (pinned, quarantined, new, removed), the pin and where it comes from (learned, routes.yaml),
/// when it was first seen, pinned and changed, and the definition waiting for approval.
/// </summary>
public sealed record ToolPinInfo(
    string Name, string State, string? Pin, string? PinSource, DateTimeOffset? FirstSeen, DateTimeOffset? PinnedAt, DateTimeOffset? ChangedAt, PendingToolInfo? Pending);

/// <summary>A definition that does not match the pin: its own pin, the kind of change, and the diff.</summary>
public sealed record PendingToolInfo(
    string Pin, string Change, DateTimeOffset SeenAt, string? OldDescription, string? NewDescription, IReadOnlyList<string> ChangedPaths, IReadOnlyList<string> HiddenCharacters);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServiceInfo))]
[JsonSerializable(typeof(IReadOnlyList<ServiceInfo>))]
[JsonSerializable(typeof(ServiceHealth))]
[JsonSerializable(typeof(DashboardOverview))]
[JsonSerializable(typeof(ServiceTools))]
[JsonSerializable(typeof(ToolPinInfo))]
[JsonSerializable(typeof(IReadOnlyList<DashboardService>))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
