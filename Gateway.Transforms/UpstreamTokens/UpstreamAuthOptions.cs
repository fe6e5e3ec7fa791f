using System.Runtime.Serialization;
using Gateway.Configuration;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>How the gateway authenticates to one upstream: <c>servers.&lt;name&gt;.upstreamAuth</c> in routes.yaml.</summary>
public sealed record UpstreamAuthOptions
{
    /// <summary>The RFC 8693 token type of an access token, the default <see cref="RequestedTokenType"/>.</summary>
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    public UpstreamAuthStrategy Strategy { get; init; } = UpstreamAuthStrategy.None;

    /// <summary>The IdP's token endpoint (<c>token-exchange</c>, <c>client-credentials</c>).</summary>
    public string? TokenEndpoint { get; init; }

    /// <summary>The gateway's client id at the IdP (<c>token-exchange</c>, <c>client-credentials</c>).</summary>
    public string? ClientId { get; init; }

    /// <summary>The gateway's client secret; best set through <c>GATEWAY__servers__&lt;name&gt;__upstreamAuth__clientSecret</c>.</summary>
    public string? ClientSecret { get; init; }

    /// <summary>The audience the upstream's token is for (RFC 8693 <c>audience</c>).</summary>
    public string? Audience { get; init; }

    /// <summary>The scopes asked for; for <c>obo</c> the Entra scopes of the upstream API (e.g. <c>api://upstream/.default</c>).</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>RFC 8693 <c>requested_token_type</c>.</summary>
    public string RequestedTokenType { get; init; } = AccessTokenType;
}

/// <summary>What the gateway gives an upstream: <c>servers.&lt;name&gt;.upstreamAuth.strategy</c>.</summary>
public enum UpstreamAuthStrategy
{
    /// <summary>No credentials: the caller's <c>Authorization</c> header is removed.</summary>
    [EnumMember(Value = "none")]
    None,

    /// <summary>The caller's own token is forwarded. Explicit opt-in only: the MCP spec forbids it by default.</summary>
    [EnumMember(Value = "passthrough")]
    Passthrough,

    /// <summary>Entra ID On-Behalf-Of, through Microsoft.Identity.Web.</summary>
    [EnumMember(Value = "obo")]
    OnBehalfOf,

    /// <summary>RFC 8693 token exchange of the caller's token at <see cref="UpstreamAuthOptions.TokenEndpoint"/>.</summary>
    [EnumMember(Value = "token-exchange")]
    TokenExchange,

    /// <summary>The gateway's own identity (OAuth client credentials grant).</summary>
    [EnumMember(Value = "client-credentials")]
    ClientCredentials,
}

/// <summary>What follows from a strategy.</summary>
public static class UpstreamAuthStrategies
{
    private static readonly string[] Labels = [.. Enum.GetValues<UpstreamAuthStrategy>().Select(s => ConfigurationReader.NameOf(s))];

    /// <summary>Whether a strategy acts for the calling user, and so needs an authenticated caller.</summary>
    public static bool ActsForCaller(this UpstreamAuthStrategy strategy) =>
        strategy is UpstreamAuthStrategy.Passthrough or UpstreamAuthStrategy.OnBehalfOf or UpstreamAuthStrategy.TokenExchange;

    /// <summary>The strategy as routes.yaml writes it, for logs and metric labels.</summary>
    public static string Label(this UpstreamAuthStrategy strategy) => Labels[(int)strategy];
}

/// <summary>The <c>gateway.tokenCache</c> section: how long upstream tokens and failures are kept. Read at start-up.</summary>
public sealed record TokenCacheOptions
{
    /// <summary>A Redis connection string for the shared second level; unset keeps tokens in this replica's memory only.</summary>
    public string? Redis { get; init; }

    /// <summary>A token is dropped this long before it expires, so it never reaches an upstream about to expire.</summary>
    public TimeSpan SafetyMargin { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a refusal or outage is remembered, so a failing IdP is not asked on every request.</summary>
    public TimeSpan FailureLifetime { get; init; } = TimeSpan.FromSeconds(5);
}
