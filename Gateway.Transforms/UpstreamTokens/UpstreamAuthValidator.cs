using Gateway.Configuration;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.InboundAuth;
using Microsoft.Net.Http.Headers;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>Checks what each upstream is given (<c>servers.&lt;name&gt;.upstreamAuth</c>) and the token cache.</summary>
internal static class UpstreamAuthValidator
{
    public static void ValidateTokenCache(TokenCacheOptions cache, List<string> errors)
    {
        RoutesValidator.RequirePositive("gateway.tokenCache.safetyMargin", cache.SafetyMargin, errors);
        RoutesValidator.RequirePositive("gateway.tokenCache.failureLifetime", cache.FailureLifetime, errors);
    }

    public static void ValidateServer(string key, McpServerOptions server, AuthOptions? gatewayAuth, List<string> errors)
    {
        var upstream = server.UpstreamAuth;
        var strategy = upstream.Strategy;
        var name = ConfigurationReader.NameOf(strategy);
        if (strategy.ActsForCaller() && !server.Auth.RequiresToken(gatewayAuth))
        {
            errors.Add($"{key}.upstreamAuth.strategy: '{name}' acts for the caller, so callers must authenticate. Configure 'gateway.auth' and leave '{key}.auth.required' true.");
        }

        if (strategy is UpstreamAuthStrategy.TokenExchange or UpstreamAuthStrategy.ClientCredentials)
        {
            if (!Uri.TryCreate(upstream.TokenEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                errors.Add($"{key}.upstreamAuth.tokenEndpoint: '{upstream.TokenEndpoint}' is not an absolute URL. Give the IdP's token endpoint, e.g. 'https://sso.example.com/realms/mcp/protocol/openid-connect/token'.");
            }

            if (string.IsNullOrWhiteSpace(upstream.ClientId))
            {
                errors.Add($"{key}.upstreamAuth.clientId: required for '{name}': the gateway's client at the IdP.");
            }
        }

        if (strategy == UpstreamAuthStrategy.TokenExchange && string.IsNullOrWhiteSpace(upstream.Audience) && upstream.Scopes.Count == 0)
        {
            errors.Add($"{key}.upstreamAuth.audience: a token exchange needs a target. Set 'audience' (the upstream's client id) or 'scopes'.");
        }

        if (strategy == UpstreamAuthStrategy.OnBehalfOf)
        {
            if (gatewayAuth?.Entra is not { } entra || string.IsNullOrWhiteSpace(entra.ClientSecret))
            {
                errors.Add($"{key}.upstreamAuth.strategy: 'obo' needs 'gateway.auth.entra' with a 'clientSecret' (set it through GATEWAY__gateway__auth__entra__clientSecret).");
            }

            if (upstream.Scopes.Count == 0)
            {
                errors.Add($"{key}.upstreamAuth.scopes: 'obo' needs the upstream API's scopes, e.g. [ 'api://upstream-api/.default' ].");
            }
        }

        if (strategy != UpstreamAuthStrategy.None && server.Headers.Keys.Contains(HeaderNames.Authorization, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{key}.headers.Authorization: the '{name}' strategy sets Authorization itself. Remove the header or set 'upstreamAuth.strategy: none'.");
        }
    }
}
