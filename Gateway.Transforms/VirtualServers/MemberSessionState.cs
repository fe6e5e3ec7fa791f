using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// What a virtual session keeps of one member's session so that any replica can continue it without a new initialize:
/// the member route's (sealed) session id, and what the member's initialize answered.
/// </summary>
internal sealed record MemberSessionState(string? SessionId, string ProtocolVersion, ServerCapabilities Capabilities, Implementation ServerInfo, string? Instructions)
{
    public static MemberSessionState Of(McpClient client) =>
        new(client.SessionId, client.NegotiatedProtocolVersion ?? VirtualServerProtocol.MemberProtocolVersion, client.ServerCapabilities, client.ServerInfo ?? new Implementation { Name = "unknown", Version = "0" }, client.ServerInstructions);

    public ResumeClientSessionOptions ResumeOptions() => new()
    {
        ServerCapabilities = Capabilities,
        ServerInfo = ServerInfo,
        ServerInstructions = Instructions,
        NegotiatedProtocolVersion = ProtocolVersion,
    };

    public string ToJson()
    {
        var json = new JsonObject
        {
            ["sessionId"] = SessionId,
            ["protocolVersion"] = ProtocolVersion,
            ["capabilities"] = JsonSerializer.SerializeToNode(Capabilities, McpJsonUtilities.DefaultOptions.GetTypeInfo<ServerCapabilities>()),
            ["serverInfo"] = JsonSerializer.SerializeToNode(ServerInfo, McpJsonUtilities.DefaultOptions.GetTypeInfo<Implementation>()),
            ["instructions"] = Instructions,
        };
        return json.ToJsonString();
    }

    /// <summary>The state a <see cref="ToJson"/> wrote; null for anything else, which is then treated as no state.</summary>
    public static MemberSessionState? FromJson(string json)
    {
        try
        {
            if (JsonNode.Parse(json) is not JsonObject o || o["protocolVersion"]?.GetValue<string>() is not { } version
                || o["capabilities"]?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<ServerCapabilities>()) is not { } capabilities
                || o["serverInfo"]?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<Implementation>()) is not { } info)
            {
                return null;
            }

            return new MemberSessionState(o["sessionId"]?.GetValue<string>(), version, capabilities, info, o["instructions"]?.GetValue<string>());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
