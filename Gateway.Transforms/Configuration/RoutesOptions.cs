using Gateway.StdioBridge.Configuration;
using Gateway.Transforms.UpstreamTokens;

namespace Gateway.Transforms.Configuration;

/// <summary>The whole of routes.yaml: the servers and the gateway-wide settings.</summary>
public sealed class RoutesOptions
{
    /// <summary>The MCP servers by name; each is served at <c>/mcp/&lt;name&gt;</c>.</summary>
    public Dictionary<string, McpServerOptions> Servers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Settings that apply to every server.</summary>
    public GatewayOptions Gateway { get; init; } = new();

    /// <summary>Whether callers of <paramref name="server"/> must present a valid token.</summary>
    public bool RequiresToken(McpServerOptions server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return server.Auth.Required ?? Gateway.Auth is not null;
    }
}

/// <summary>The <c>gateway:</c> section of routes.yaml.</summary>
public sealed class GatewayOptions
{
    /// <summary>The largest POST body accepted, in bytes; larger bodies are answered 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Browser origins allowed to call the gateway (exact <c>scheme://host[:port]</c>).</summary>
    public List<string> AllowedOrigins { get; init; } = [];

    /// <summary>Whether loopback origins (<c>http://localhost:*</c>, <c>http://127.0.0.1:*</c>) are allowed; unset means only in Development.</summary>
    public bool? AllowLoopbackOrigins { get; init; }

    /// <summary>How sealed session ids are issued (takes effect at start-up).</summary>
    public SessionSettings Sessions { get; init; } = new();

    /// <summary>Where the Data Protection key ring that seals session ids lives (takes effect at start-up).</summary>
    public DataProtectionSettings DataProtection { get; init; } = new();

    /// <summary>
    /// The gateway's public base URL as clients see it (e.g. <c>https://gateway.example.com</c>); each server's
    /// resource is <c>&lt;publicUrl&gt;/mcp/&lt;name&gt;</c>. Unset: taken from each request's scheme and host.
    /// </summary>
    public string? PublicUrl { get; init; }

    /// <summary>Who may call the gateway: the token issuer it trusts (takes effect at start-up).</summary>
    public AuthSettings? Auth { get; init; }

    /// <summary>The cache of tokens obtained for upstreams (takes effect at start-up).</summary>
    public TokenCacheSettings TokenCache { get; init; } = new();

    /// <summary>How the gateway stops on SIGTERM (takes effect at start-up).</summary>
    public ShutdownSettings Shutdown { get; init; } = new();

    /// <summary>Where rate-limit counters are shared between replicas (takes effect at start-up).</summary>
    public RateLimitingSettings RateLimiting { get; init; } = new();
}

/// <summary>The <c>gateway.auth</c> section: inbound JWT bearer validation. Set <see cref="Authority"/> or <see cref="Entra"/>.</summary>
public sealed class AuthSettings
{
    /// <summary>An OIDC issuer, exactly as it appears in tokens' <c>iss</c>, e.g. a Keycloak realm <c>https://sso.example.com/realms/mcp</c>.</summary>
    public string? Authority { get; init; }

    /// <summary>Entra ID, through Microsoft.Identity.Web (also what <c>obo</c> upstreams use).</summary>
    public EntraSettings? Entra { get; init; }

    /// <summary>The audience every server accepts instead of its resource URL (e.g. the gateway's client id); a server's own <c>auth.audience</c> wins.</summary>
    public string? Audience { get; init; }

    /// <summary>Tolerance for clocks out of step with the issuer's.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether the issuer's metadata must be fetched over HTTPS; only a development IdP on loopback may need false.</summary>
    public bool RequireHttpsMetadata { get; init; } = true;

    /// <summary>The signing algorithms accepted; asymmetric ones only.</summary>
    public List<string> Algorithms { get; init; } = [];

    /// <summary>Roles (<c>roles</c> claim) of which a token must carry one to use <c>/api/v1</c>; <c>mcp-admin</c> when empty.</summary>
    public List<string> AdminRoles { get; init; } = [];

    /// <summary>The admin roles in force.</summary>
    public IReadOnlyList<string> EffectiveAdminRoles => AdminRoles.Count > 0 ? AdminRoles : ["mcp-admin"];
}

/// <summary>The <c>gateway.auth.entra</c> section: the gateway's app registration.</summary>
public sealed class EntraSettings
{
    /// <summary>The cloud's login endpoint.</summary>
    public string Instance { get; init; } = "https://login.microsoftonline.com/";

    /// <summary>The directory (tenant) id.</summary>
    public string? TenantId { get; init; }

    /// <summary>The gateway's application (client) id.</summary>
    public string? ClientId { get; init; }

    /// <summary>The gateway's client secret, for On-Behalf-Of; best set through <c>GATEWAY__gateway__auth__entra__clientSecret</c>.</summary>
    public string? ClientSecret { get; init; }
}

/// <summary>The <c>gateway.tokenCache</c> section.</summary>
public sealed class TokenCacheSettings
{
    /// <summary>A Redis connection string for the shared second level; unset keeps tokens in this replica's memory only.</summary>
    public string? Redis { get; init; }

    /// <summary>How long before its expiry a token stops being used.</summary>
    public TimeSpan SafetyMargin { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a refused or failed token request is remembered.</summary>
    public TimeSpan FailureLifetime { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The <c>gateway.shutdown</c> section. On SIGTERM readiness fails at once; the gateway keeps serving for
/// <see cref="DrainDelay"/> so load balancers stop sending, then closes standalone GET streams (clients reconnect
/// elsewhere) and lets requests in flight finish until <see cref="GracePeriod"/> is over.
/// </summary>
public sealed class ShutdownSettings
{
    public TimeSpan DrainDelay { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>The <c>gateway.rateLimiting</c> section.</summary>
public sealed class RateLimitingSettings
{
    /// <summary>A Redis connection string; unset, or while Redis is unreachable, each replica limits on its own.</summary>
    public string? Redis { get; init; }
}

/// <summary>The <c>gateway.sessions</c> section.</summary>
public sealed class SessionSettings
{
    /// <summary>How long a session id stays valid after <c>initialize</c>; clients re-initialize after it.</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>The <c>gateway.dataProtection</c> section: replicas must share one key ring to route each other's sessions.</summary>
public sealed class DataProtectionSettings
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

/// <summary>One MCP server: <c>servers.&lt;name&gt;</c>.</summary>
public sealed class McpServerOptions
{
    /// <summary><c>http</c> (a streamable HTTP endpoint) or <c>stdio</c> (a local process behind the bridge).</summary>
    public string Transport { get; init; } = McpTransports.Http;

    /// <summary>How to run a <c>stdio</c> server; only for that transport.</summary>
    public StdioServerOptions? Stdio { get; init; }

    /// <summary>The upstream MCP endpoints of an <c>http</c> server; new sessions are spread over the healthy ones.</summary>
    public List<DestinationOptions> Destinations { get; init; } = [];

    /// <summary>How new sessions and session-less requests pick a destination (a YARP policy name).</summary>
    public string LoadBalancing { get; init; } = "PowerOfTwoChoices";

    /// <summary>Timeouts toward the upstream.</summary>
    public TimeoutOptions Timeouts { get; init; } = new();

    /// <summary>Headers added to every request to the upstream (e.g. an API key the upstream wants).</summary>
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Overrides <see cref="GatewayOptions.MaxRequestBodyBytes"/> for this server.</summary>
    public long? MaxRequestBodyBytes { get; init; }

    /// <summary>Active probing of the destinations, so new sessions avoid dead ones.</summary>
    public HealthProbeOptions HealthCheck { get; init; } = new();

    /// <summary>How many requests each caller may send to this server, and to each of its tools.</summary>
    public RateLimitOptions? RateLimit { get; init; }

    /// <summary>What the audit log records of this server's requests beyond the defaults.</summary>
    public AuditOptions Audit { get; init; } = new();

    /// <summary>When to stop sending to a destination that keeps failing.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();

    /// <summary>What callers of this server must present.</summary>
    public ServerAuthOptions Auth { get; init; } = new();

    /// <summary>What the gateway presents to this server's upstream.</summary>
    public UpstreamAuthOptions UpstreamAuth { get; init; } = new();
}

/// <summary><c>servers.&lt;name&gt;.auth</c>: the caller's side.</summary>
public sealed class ServerAuthOptions
{
    /// <summary>Whether a valid token is required; unset means required whenever <c>gateway.auth</c> is configured.</summary>
    public bool? Required { get; init; }

    /// <summary>Scopes the token must carry, all of them (<c>scope</c> or <c>scp</c> claim).</summary>
    public List<string> Scopes { get; init; } = [];

    /// <summary>Roles of which the token must carry at least one (<c>roles</c> claim).</summary>
    public List<string> Roles { get; init; } = [];

    /// <summary>The audience tokens for this server carry, instead of its resource URL.</summary>
    public string? Audience { get; init; }
}

/// <summary>One upstream endpoint.</summary>
public sealed class DestinationOptions
{
    /// <summary>The absolute URL of the upstream MCP endpoint, e.g. <c>http://10.0.0.5:3001/mcp</c>.</summary>
    public string? Url { get; init; }
}

/// <summary><c>servers.&lt;name&gt;.timeouts</c>.</summary>
public sealed class TimeoutOptions
{
    /// <summary>How long establishing a connection to the upstream may take.</summary>
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an exchange may go without a byte in either direction before it is cut. SSE streams (standalone GET
    /// streams above all) can be quiet for long, so this is far above YARP's 100 s default.
    /// </summary>
    public TimeSpan Activity { get; init; } = TimeSpan.FromHours(1);
}

/// <summary><c>servers.&lt;name&gt;.healthCheck</c>.</summary>
public sealed class HealthProbeOptions
{
    /// <summary>Whether destinations are probed.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Time between probes.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one probe may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// <c>servers.&lt;name&gt;.circuitBreaker</c>: one breaker per destination, counting transport failures, timeouts
/// and 5xx answers (not 4xx, not JSON-RPC errors inside 200s).
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
    public Dictionary<string, RateLimitOptions> Tools { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The bucket size in force.</summary>
    public int EffectiveBurst => Burst ?? Math.Max(1, RequestsPerMinute / 6);
}

/// <summary><c>servers.&lt;name&gt;.audit</c>.</summary>
public sealed class AuditOptions
{
    /// <summary>
    /// Whether audit events carry <c>tools/call</c> arguments (at most 4 KiB of their JSON). Off by default: arguments
    /// can hold personal data and secrets. Results are never recorded (the gateway does not read answers).
    /// </summary>
    public bool IncludeArguments { get; init; }
}

/// <summary>The values of <see cref="McpServerOptions.Transport"/>.</summary>
public static class McpTransports
{
    public const string Http = "http";
    public const string Stdio = "stdio";
}
