using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Limits;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Shutdown;
using Gateway.Transforms.UpstreamTokens;

namespace Gateway.Transforms.Configuration;

/// <summary>
/// The keys of the <c>gateway:</c> section that are read once, at start-up: who is trusted, where shared state
/// lives, how sessions are sealed and how the gateway stops. An edit of them while running is reported and waits for
/// a restart (<see cref="RoutesConfigStore"/>).
/// </summary>
public sealed record StartupOptions
{
    /// <summary>Who may call the gateway: the token issuer it trusts; none means every server is anonymous.</summary>
    public AuthOptions? Auth { get; init; }

    /// <summary>How sealed session ids are issued.</summary>
    public SessionOptions Sessions { get; init; } = new();

    /// <summary>Where the key ring that seals session ids lives.</summary>
    public KeyRingOptions DataProtection { get; init; } = new();

    /// <summary>The cache of tokens obtained for upstreams.</summary>
    public TokenCacheOptions TokenCache { get; init; } = new();

    /// <summary>How the gateway stops on SIGTERM.</summary>
    public ShutdownOptions Shutdown { get; init; } = new();

    /// <summary>
    /// The proxies in front of the gateway, as addresses or networks (<c>10.0.0.0/8</c>), whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed. None: the connection's own address and scheme count, whatever a client sends.
    /// </summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];

    /// <summary>Where the pins of tool definitions are kept.</summary>
    public ToolPinStoreOptions ToolPins { get; init; } = new();

    /// <summary>The Redis the replicas already share, for shared state of any feature that names none of its own.</summary>
    public string? SharedRedis =>
        new[] { DataProtection.Redis, TokenCache.Redis, RateLimiting.Redis, ToolPins.Redis }.FirstOrDefault(r => !string.IsNullOrWhiteSpace(r));

    /// <summary>Where rate-limit counters are shared between replicas.</summary>
    public RateLimitingOptions RateLimiting { get; init; } = new();
}
