namespace Gateway.Transforms.Sessions;

/// <summary>The <c>gateway.sessions</c> section: how sealed session ids are issued and honoured. Read at start-up.</summary>
public sealed record SessionOptions
{
    /// <summary>How long a session id stays valid after <c>initialize</c>; clients re-initialize after it.</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>
/// The <c>gateway.dataProtection</c> section: where the key ring that seals session ids (and the token cache's Redis
/// entries) lives. Replicas must share one to route each other's sessions. Read at start-up.
/// </summary>
public sealed record KeyRingOptions
{
    /// <summary>A directory shared by all replicas (e.g. a volume); the default is the user profile's key ring.</summary>
    public string? KeysDirectory { get; init; }

    /// <summary>A Redis connection string; keys are kept under <see cref="RedisKey"/>.</summary>
    public string? Redis { get; init; }

    /// <summary>The Redis key of the key ring.</summary>
    public string RedisKey { get; init; } = "mcp-gateway:data-protection-keys";

    /// <summary>Isolates this deployment's keys from other applications sharing the store.</summary>
    public string ApplicationName { get; init; } = "mcp-gateway";
}
