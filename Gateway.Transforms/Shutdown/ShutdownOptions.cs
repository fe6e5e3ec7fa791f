namespace Gateway.Transforms.Shutdown;

/// <summary>
/// The <c>gateway.shutdown</c> section. On SIGTERM readiness fails at once; the gateway keeps serving for
/// <see cref="DrainDelay"/> so load balancers stop sending, then closes standalone GET streams (clients reconnect
/// elsewhere) and lets requests in flight finish until <see cref="GracePeriod"/> is over. Read at start-up.
/// </summary>
public sealed record ShutdownOptions
{
    public TimeSpan DrainDelay { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(30);
}
