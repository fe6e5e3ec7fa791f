namespace Gateway.Mcp;

/// <summary>The media types of the streamable-HTTP transport.</summary>
internal static class McpMediaTypes
{
    /// <summary>An SSE stream: a POST's answer with its related messages, or a standalone GET stream.</summary>
    public const string EventStream = "text/event-stream";

    public const string Json = "application/json";
}
