namespace Gateway.Transforms.Resilience;

/// <summary>
/// <c>servers.&lt;name&gt;.circuitBreaker</c>: one breaker per destination, counting transport failures, timeouts
/// and 5xx answers (not 4xx, not JSON-RPC errors inside 200s). Compared by value: a changed threshold gives the
/// destination a new breaker.
/// </summary>
public sealed record CircuitBreakerOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>The share of failed requests in <see cref="SamplingDuration"/> that opens the circuit.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>The fewest requests in <see cref="SamplingDuration"/> before the ratio counts.</summary>
    public int MinimumThroughput { get; init; } = 10;

    /// <summary>The window over which failures are counted.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit refuses requests before one probe request is let through.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);
}
