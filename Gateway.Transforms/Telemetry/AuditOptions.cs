namespace Gateway.Transforms.Telemetry;

/// <summary><c>servers.&lt;name&gt;.audit</c>.</summary>
public sealed record AuditOptions
{
    /// <summary>
    /// Whether audit events carry <c>tools/call</c> arguments (at most 4 KiB of their JSON). Off by default: arguments
    /// can hold personal data and secrets. Results are never recorded (the gateway does not read answers).
    /// </summary>
    public bool IncludeArguments { get; init; }
}
