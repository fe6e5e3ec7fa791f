namespace Gateway.Transforms.Forwarding;

/// <summary>One upstream endpoint: <c>servers.&lt;name&gt;.destinations[]</c>.</summary>
public sealed record DestinationOptions
{
    /// <summary>The absolute URL of the upstream MCP endpoint, e.g. <c>http://10.0.0.5:3001/mcp</c>.</summary>
    public string? Url { get; init; }
}

/// <summary><c>servers.&lt;name&gt;.timeouts</c>.</summary>
public sealed record TimeoutOptions
{
    /// <summary>How long establishing a connection to the upstream may take.</summary>
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an exchange may go without a byte in either direction before it is cut. SSE streams (standalone GET
    /// streams above all) can be quiet for long, so this is far above YARP's 100 s default.
    /// </summary>
    public TimeSpan Activity { get; init; } = TimeSpan.FromHours(1);
}

/// <summary><c>servers.&lt;name&gt;.healthCheck</c>: YARP's active probe of each destination.</summary>
public sealed record HealthProbeOptions
{
    /// <summary>Whether destinations are probed.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Time between probes.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one probe may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}
