using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Proxy.Api;

/// <summary>A configured server as the services API shows it.</summary>
public sealed record ServiceInfo(string Name, string Path, string Transport, string LoadBalancing, IReadOnlyList<DestinationInfo> Destinations);

/// <summary>A destination and what YARP's health checks last concluded about it.</summary>
public sealed record DestinationInfo(string Url, string ActiveHealth, string PassiveHealth);

/// <summary>The outcome of a live MCP probe of a server's destinations.</summary>
public sealed record ServiceHealth(string Name, string Status, IReadOnlyList<DestinationProbe> Destinations);

/// <summary>One destination's probe: an MCP handshake and a ping.</summary>
public sealed record DestinationProbe(string Url, bool Healthy, double LatencyMs, string? ProtocolVersion, string? ServerName, string? ServerVersion, string? Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServiceInfo))]
[JsonSerializable(typeof(IReadOnlyList<ServiceInfo>))]
[JsonSerializable(typeof(ServiceHealth))]
[JsonSerializable(typeof(Gateway.Proxy.Identity.ProtectedResourceMetadata))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
