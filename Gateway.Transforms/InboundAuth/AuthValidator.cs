using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.InboundAuth;

/// <summary>Checks who may call: <c>gateway.auth</c>, <c>gateway.publicUrl</c> and each server's <c>auth</c>.</summary>
internal static class AuthValidator
{
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Checks <c>gateway.publicUrl</c>, the base of every server's resource URL.</summary>
    public static void ValidateGateway(GatewayOptions gateway, List<string> errors)
    {
        if (gateway.PublicUrl is { } publicUrl && (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var publicUri)
            || publicUri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(publicUri.Query) || !string.IsNullOrEmpty(publicUri.Fragment)))
        {
            errors.Add($"gateway.publicUrl: '{publicUrl}' is not an absolute http(s) URL without query, e.g. 'https://gateway.example.com'.");
        }
    }

    /// <summary>Checks <c>gateway.auth</c>.</summary>
    public static void ValidateStartup(AuthOptions? auth, List<string> errors)
    {
        if (auth is null)
        {
            return;
        }

        if ((auth.Authority is null) == (auth.Entra is null))
        {
            errors.Add("gateway.auth: set exactly one of 'authority' (an OIDC issuer such as a Keycloak realm URL) and 'entra' (tenantId, clientId).");
        }

        if (auth.Authority is { } authority && (!Uri.TryCreate(authority, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors.Add($"gateway.auth.authority: '{authority}' is not an absolute URL. Give the issuer exactly as tokens carry it, e.g. 'https://sso.example.com/realms/mcp'.");
        }
        else if (auth.Authority is not null && auth.RequireHttpsMetadata && !auth.Authority.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"gateway.auth.authority: '{auth.Authority}' is not HTTPS. Use an https issuer, or set 'requireHttpsMetadata: false' for a development IdP.");
        }

        if (auth.Entra is { } entra)
        {
            if (string.IsNullOrWhiteSpace(entra.TenantId) || string.IsNullOrWhiteSpace(entra.ClientId))
            {
                errors.Add("gateway.auth.entra: 'tenantId' and 'clientId' (the gateway's app registration) are both required.");
            }

            if (!Uri.TryCreate(entra.Instance, UriKind.Absolute, out _))
            {
                errors.Add($"gateway.auth.entra.instance: '{entra.Instance}' is not an absolute URL, e.g. 'https://login.microsoftonline.com/'.");
            }
        }

        if (auth.ClockSkew < TimeSpan.Zero || auth.ClockSkew > MaxClockSkew)
        {
            errors.Add($"gateway.auth.clockSkew: '{auth.ClockSkew}' is out of range. Give at most '5m'; the default is '60s'.");
        }

        foreach (var algorithm in auth.Algorithms.Where(a => !JwtAlgorithms.Asymmetric.Contains(a)))
        {
            errors.Add($"gateway.auth.algorithms: '{algorithm}' is not accepted. Use asymmetric algorithms only: {string.Join(", ", JwtAlgorithms.Asymmetric)}.");
        }
    }

    public static void ValidateServer(string key, ServerAuthOptions server, AuthOptions? gateway, GatewayOptions routes, List<string> errors)
    {
        if (gateway is null && (server.Required == true || server.Scopes.Count > 0 || server.Roles.Count > 0))
        {
            errors.Add($"{key}.auth: tokens are required but no issuer is trusted. Configure 'gateway.auth' (authority or entra), or remove '{key}.auth'.");
        }

        // Without either, the audience would be built from each request's Host header, which the caller chooses:
        // a token for another resource with the same path would pass when sent with that Host.
        if (server.RequiresToken(gateway) && routes.PublicUrl is null && (server.Audience ?? gateway?.Audience) is null)
        {
            errors.Add($"gateway.publicUrl: required, since {key} accepts tokens for its resource URL: give the URL clients use, e.g. 'https://mcp.example.com' or 'http://127.0.0.1:8080' (or set 'gateway.auth.audience').");
        }
    }
}
