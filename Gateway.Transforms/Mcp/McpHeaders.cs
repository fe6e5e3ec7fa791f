namespace Gateway.Mcp;

/// <summary>The HTTP header names of the MCP streamable HTTP transport (all revisions the gateway speaks).</summary>
internal static class McpHeaders
{
    /// <summary>The session id of the 2025-03-26 … 2025-11-25 revisions.</summary>
    public const string SessionId = "Mcp-Session-Id";

    /// <summary>The negotiated (or, from 2026-07-28, per-request) protocol version.</summary>
    public const string ProtocolVersion = "MCP-Protocol-Version";

    /// <summary>The id of the last SSE event a client saw, for resuming a stream.</summary>
    public const string LastEventId = "Last-Event-ID";

    /// <summary>The JSON-RPC method, mirrored from the body (2026-07-28).</summary>
    public const string Method = "Mcp-Method";

    /// <summary>The tool or prompt name or the resource URI, mirrored from the body (2026-07-28).</summary>
    public const string Name = "Mcp-Name";

    /// <summary>The prefix of the headers that mirror tool arguments, <c>Mcp-Param-&lt;name&gt;</c> (2026-07-28).</summary>
    public const string ParameterPrefix = "Mcp-Param-";
}
