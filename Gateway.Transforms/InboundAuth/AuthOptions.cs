namespace Gateway.Transforms.InboundAuth;

/// <summary>The <c>gateway.auth</c> section: inbound JWT bearer validation. Set <see cref="Authority"/> or <see cref="Entra"/>. Read at start-up.</summary>
public sealed record AuthOptions
{
    /// <summary>An OIDC issuer, exactly as it appears in tokens' <c>iss</c>, e.g. a Keycloak realm <c>https://sso.example.com/realms/mcp</c>.</summary>
    public string? Authority { get; init; }

    /// <summary>Entra ID, through Microsoft.Identity.Web (also what <c>obo</c> upstreams use).</summary>
    public EntraOptions? Entra { get; init; }

    /// <summary>The audience every server accepts instead of its resource URL (e.g. the gateway's client id); a server's own <c>auth.audience</c> wins.</summary>
    public string? Audience { get; init; }

    /// <summary>Tolerance for clocks out of step with the issuer's.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether the issuer's metadata must be fetched over HTTPS; only a development IdP on loopback may need false.</summary>
    public bool RequireHttpsMetadata { get; init; } = true;

    /// <summary>The signing algorithms accepted; asymmetric ones only.</summary>
    public IReadOnlyList<string> Algorithms { get; init; } = [];

    /// <summary>Roles (<c>roles</c> claim) of which a token must carry one to use <c>/api/v1</c>; <c>mcp-admin</c> when empty.</summary>
    public IReadOnlyList<string> AdminRoles { get; init; } = [];

    /// <summary>The admin roles in force.</summary>
    public IReadOnlyList<string> EffectiveAdminRoles => AdminRoles.Count > 0 ? AdminRoles : ["mcp-admin"];
}

/// <summary>The <c>gateway.auth.entra</c> section: the gateway's app registration.</summary>
public sealed record EntraOptions
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

/// <summary><c>servers.&lt;name&gt;.auth</c>: what callers of one server must present.</summary>
public sealed record ServerAuthOptions
{
    /// <summary>Whether a valid token is required; unset means required whenever <c>gateway.auth</c> is configured.</summary>
    public bool? Required { get; init; }

    /// <summary>Scopes the token must carry, all of them (<c>scope</c> or <c>scp</c> claim).</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Roles of which the token must carry at least one (<c>roles</c> claim).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The audience tokens for this server carry, instead of its resource URL.</summary>
    public string? Audience { get; init; }

    /// <summary>Whether callers must present a valid token, given the gateway's <c>gateway.auth</c>.</summary>
    public bool RequiresToken(AuthOptions? gateway) => Required ?? gateway is not null;
}
