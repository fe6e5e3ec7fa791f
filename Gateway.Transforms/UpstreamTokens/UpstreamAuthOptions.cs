namespace Gateway.Transforms.UpstreamTokens;

/// <summary>How the gateway authenticates to one upstream: <c>servers.&lt;name&gt;.upstreamAuth</c> in routes.yaml.</summary>
public sealed class UpstreamAuthOptions
{
    /// <summary>The RFC 8693 token type of an access token, the default <see cref="RequestedTokenType"/>.</summary>
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    /// <summary>One of <see cref="UpstreamAuthStrategies"/>.</summary>
    public string Strategy { get; init; } = UpstreamAuthStrategies.None;

    /// <summary>The IdP's token endpoint (<c>token-exchange</c>, <c>client-credentials</c>).</summary>
    public string? TokenEndpoint { get; init; }

    /// <summary>The gateway's client id at the IdP (<c>token-exchange</c>, <c>client-credentials</c>).</summary>
    public string? ClientId { get; init; }

    /// <summary>The gateway's client secret; best set through <c>GATEWAY__servers__&lt;name&gt;__upstreamAuth__clientSecret</c>.</summary>
    public string? ClientSecret { get; init; }

    /// <summary>The audience the upstream's token is for (RFC 8693 <c>audience</c>).</summary>
    public string? Audience { get; init; }

    /// <summary>The scopes asked for; for <c>obo</c> the Entra scopes of the upstream API (e.g. <c>api://upstream/.default</c>).</summary>
    public List<string> Scopes { get; init; } = [];

    /// <summary>RFC 8693 <c>requested_token_type</c>.</summary>
    public string RequestedTokenType { get; init; } = AccessTokenType;
}

/// <summary>The values of <see cref="UpstreamAuthOptions.Strategy"/>.</summary>
public static class UpstreamAuthStrategies
{
    /// <summary>No credentials: the caller's <c>Authorization</c> header is removed.</summary>
    public const string None = "none";

    /// <summary>The caller's own token is forwarded. Explicit opt-in only: the MCP spec forbids it by default.</summary>
    public const string Passthrough = "passthrough";

    /// <summary>Entra ID On-Behalf-Of, through Microsoft.Identity.Web.</summary>
    public const string OnBehalfOf = "obo";

    /// <summary>RFC 8693 token exchange of the caller's token at <see cref="UpstreamAuthOptions.TokenEndpoint"/>.</summary>
    public const string TokenExchange = "token-exchange";

    /// <summary>The gateway's own identity (OAuth client credentials grant).</summary>
    public const string ClientCredentials = "client-credentials";

    /// <summary>Every strategy, for validation messages.</summary>
    public static IReadOnlyList<string> All { get; } = [None, Passthrough, OnBehalfOf, TokenExchange, ClientCredentials];

    /// <summary>Whether a strategy acts for the calling user, and so needs an authenticated caller.</summary>
    public static bool ActsForCaller(string strategy) => strategy is Passthrough or OnBehalfOf or TokenExchange;
}
