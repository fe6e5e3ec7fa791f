namespace Gateway.Transforms.Limits;

/// <summary>
/// <c>servers.&lt;name&gt;.rateLimit</c>: a token bucket per caller (issuer and subject, or client IP when anonymous)
/// refilled at <see cref="RequestsPerMinute"/>, holding at most <see cref="Burst"/>. JSON-RPC requests count;
/// notifications, responses, GET streams and DELETE do not.
/// </summary>
public sealed record RateLimitOptions
{
    public int RequestsPerMinute { get; init; }

    /// <summary>The most requests a caller may send at once after a quiet spell; unset, a sixth of a minute's worth (at least 1).</summary>
    public int? Burst { get; init; }

    /// <summary>Limits of their own for some tools (<c>tools/call</c> by <c>params.name</c>), on top of the server's.</summary>
    public IReadOnlyDictionary<string, RateLimitOptions> Tools { get; init; } = new Dictionary<string, RateLimitOptions>();

    /// <summary>The bucket size in force.</summary>
    public int EffectiveBurst => Burst ?? Math.Max(1, RequestsPerMinute / 6);
}

/// <summary>The <c>gateway.rateLimiting</c> section. Read at start-up.</summary>
public sealed record RateLimitingOptions
{
    /// <summary>A Redis connection string; unset, or while Redis is unreachable, each replica limits on its own.</summary>
    public string? Redis { get; init; }
}
