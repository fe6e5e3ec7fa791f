using System.Text.RegularExpressions;
using Gateway.StdioBridge.Configuration;
using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.UpstreamTokens;
using Microsoft.Extensions.Options;

namespace Gateway.Transforms.Configuration;

/// <summary>
/// Checks routes.yaml as a whole and reports every problem at once, each naming its key and how to fix it.
/// </summary>
public sealed partial class RoutesValidator : IValidateOptions<RoutesOptions>
{
    private const long MinBodyBytes = 1024;
    private const long MaxBodyBytes = 1024L * 1024 * 1024;
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    private static readonly HashSet<string> LoadBalancingPolicies = new(StringComparer.Ordinal)
    {
        "PowerOfTwoChoices", "RoundRobin", "LeastRequests", "Random", "FirstAlphabetical",
    };

    // Headers the gateway or the transport own; a static value for them would break forwarding or sessions.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Upgrade", "Keep-Alive", "TE",
        "Mcp-Session-Id", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID", "Accept", StdioBridgeHost.AccessKeyHeader,
    };

    public ValidateOptionsResult Validate(string? name, RoutesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        ValidateGateway(options.Gateway, errors);

        if (options.Servers.Count == 0)
        {
            errors.Add("servers: no server is configured. Add one, e.g. 'servers: { everything: { destinations: [ { url: http://127.0.0.1:3001/mcp } ] } }'.");
        }

        foreach (var (serverName, server) in options.Servers)
        {
            ValidateServer(serverName, server, errors);
            ValidateServerAuth(options, serverName, server, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateGateway(GatewayOptions gateway, List<string> errors)
    {
        ValidateBodyLimit("gateway.maxRequestBodyBytes", gateway.MaxRequestBodyBytes, errors);

        for (var i = 0; i < gateway.AllowedOrigins.Count; i++)
        {
            var origin = gateway.AllowedOrigins[i];
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.GetLeftPart(UriPartial.Authority) != origin.TrimEnd('/'))
            {
                errors.Add($"gateway.allowedOrigins[{i}]: '{origin}' is not an origin. Write scheme, host and optional port only, e.g. 'https://app.example.com'.");
            }
        }

        if (gateway.Sessions.Lifetime <= TimeSpan.Zero)
        {
            errors.Add($"gateway.sessions.lifetime: '{gateway.Sessions.Lifetime}' must be positive, e.g. '1.00:00:00' for a day.");
        }

        var dataProtection = gateway.DataProtection;
        if (!string.IsNullOrWhiteSpace(dataProtection.KeysDirectory) && !string.IsNullOrWhiteSpace(dataProtection.Redis))
        {
            errors.Add("gateway.dataProtection: both 'keysDirectory' and 'redis' are set. Keep the key ring in one place: remove one of them.");
        }

        if (string.IsNullOrWhiteSpace(dataProtection.ApplicationName))
        {
            errors.Add("gateway.dataProtection.applicationName: must not be empty; every replica of one deployment uses the same name.");
        }

        if (gateway.PublicUrl is { } publicUrl && (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var publicUri)
            || publicUri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(publicUri.Query) || !string.IsNullOrEmpty(publicUri.Fragment)))
        {
            errors.Add($"gateway.publicUrl: '{publicUrl}' is not an absolute http(s) URL without query, e.g. 'https://gateway.example.com'.");
        }

        if (gateway.Shutdown.DrainDelay < TimeSpan.Zero || gateway.Shutdown.DrainDelay >= gateway.Shutdown.GracePeriod)
        {
            errors.Add($"gateway.shutdown: drainDelay '{gateway.Shutdown.DrainDelay}' must be at least zero and shorter than gracePeriod '{gateway.Shutdown.GracePeriod}' (defaults 00:00:05 and 00:00:30).");
        }

        ValidatePositive("gateway.tokenCache.safetyMargin", gateway.TokenCache.SafetyMargin, errors);
        ValidatePositive("gateway.tokenCache.failureLifetime", gateway.TokenCache.FailureLifetime, errors);
        if (gateway.Auth is { } auth)
        {
            ValidateAuth(auth, errors);
        }
    }

    private static void ValidateAuth(AuthSettings auth, List<string> errors)
    {
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
            errors.Add($"gateway.auth.clockSkew: '{auth.ClockSkew}' is out of range. Give at most '00:05:00'; the default is '00:01:00'.");
        }

        foreach (var algorithm in auth.Algorithms.Where(a => !JwtAlgorithms.Asymmetric.Contains(a)))
        {
            errors.Add($"gateway.auth.algorithms: '{algorithm}' is not accepted. Use asymmetric algorithms only: {string.Join(", ", JwtAlgorithms.Asymmetric)}.");
        }
    }

    private static void ValidateServerAuth(RoutesOptions options, string name, McpServerOptions server, List<string> errors)
    {
        var key = $"servers.{name}";
        if (options.Gateway.Auth is null && (server.Auth.Required == true || server.Auth.Scopes.Count > 0 || server.Auth.Roles.Count > 0))
        {
            errors.Add($"{key}.auth: tokens are required but no issuer is trusted. Configure 'gateway.auth' (authority or entra), or remove '{key}.auth'.");
        }

        var upstream = server.UpstreamAuth;
        var strategy = upstream.Strategy;
        if (!UpstreamAuthStrategies.All.Contains(strategy))
        {
            errors.Add($"{key}.upstreamAuth.strategy: '{strategy}' is not a strategy. Use one of: {string.Join(", ", UpstreamAuthStrategies.All)}.");
            return;
        }

        if (UpstreamAuthStrategies.ActsForCaller(strategy) && !options.RequiresToken(server))
        {
            errors.Add($"{key}.upstreamAuth.strategy: '{strategy}' acts for the caller, so callers must authenticate. Configure 'gateway.auth' and leave '{key}.auth.required' true.");
        }

        if (strategy is UpstreamAuthStrategies.TokenExchange or UpstreamAuthStrategies.ClientCredentials)
        {
            if (!Uri.TryCreate(upstream.TokenEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                errors.Add($"{key}.upstreamAuth.tokenEndpoint: '{upstream.TokenEndpoint}' is not an absolute URL. Give the IdP's token endpoint, e.g. 'https://sso.example.com/realms/mcp/protocol/openid-connect/token'.");
            }

            if (string.IsNullOrWhiteSpace(upstream.ClientId))
            {
                errors.Add($"{key}.upstreamAuth.clientId: required for '{strategy}': the gateway's client at the IdP.");
            }
        }

        if (strategy == UpstreamAuthStrategies.TokenExchange && string.IsNullOrWhiteSpace(upstream.Audience) && upstream.Scopes.Count == 0)
        {
            errors.Add($"{key}.upstreamAuth.audience: a token exchange needs a target. Set 'audience' (the upstream's client id) or 'scopes'.");
        }

        if (strategy == UpstreamAuthStrategies.OnBehalfOf)
        {
            if (options.Gateway.Auth?.Entra is not { } entra || string.IsNullOrWhiteSpace(entra.ClientSecret))
            {
                errors.Add($"{key}.upstreamAuth.strategy: 'obo' needs 'gateway.auth.entra' with a 'clientSecret' (set it through GATEWAY__gateway__auth__entra__clientSecret).");
            }

            if (upstream.Scopes.Count == 0)
            {
                errors.Add($"{key}.upstreamAuth.scopes: 'obo' needs the upstream API's scopes, e.g. [ 'api://upstream-api/.default' ].");
            }
        }

        if (strategy != UpstreamAuthStrategies.None && server.Headers.ContainsKey("Authorization"))
        {
            errors.Add($"{key}.headers.Authorization: the '{strategy}' strategy sets Authorization itself. Remove the header or set 'upstreamAuth.strategy: none'.");
        }
    }

    private static void ValidateServer(string name, McpServerOptions server, List<string> errors)
    {
        var key = $"servers.{name}";
        if (!ServerNamePattern().IsMatch(name))
        {
            errors.Add($"{key}: '{name}' cannot be a URL path segment. Use letters, digits, '-', '_' and '.', starting with a letter or digit.");
        }

        switch (server.Transport)
        {
            case McpTransports.Http when server.Destinations.Count == 0:
                errors.Add($"{key}.destinations: an http server needs at least one destination, e.g. 'destinations: [ {{ url: http://127.0.0.1:3001/mcp }} ]'.");
                break;
            case McpTransports.Http when server.Stdio is not null:
                errors.Add($"{key}.stdio: only a 'transport: stdio' server runs a process. Remove 'stdio', or set 'transport: stdio' and remove 'destinations'.");
                break;
            case McpTransports.Http:
                break;
            case McpTransports.Stdio when server.Destinations.Count > 0:
                errors.Add($"{key}.destinations: a stdio server is reached through the gateway's own bridge. Remove 'destinations'.");
                break;
            case McpTransports.Stdio:
                StdioServerOptionsValidator.Validate($"{key}.stdio", server.Stdio, errors);
                break;
            default:
                errors.Add($"{key}.transport: '{server.Transport}' is not a transport. Use 'http' or 'stdio'.");
                break;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < server.Destinations.Count; i++)
        {
            var url = server.Destinations[i].Url;
            var urlKey = $"{key}.destinations[{i}].url";
            if (string.IsNullOrWhiteSpace(url))
            {
                errors.Add($"{urlKey}: missing. Give the upstream MCP endpoint's absolute URL, e.g. 'http://127.0.0.1:3001/mcp'.");
            }
            else if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                errors.Add($"{urlKey}: '{url}' is not an absolute http(s) URL, e.g. 'http://127.0.0.1:3001/mcp'.");
            }
            else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                errors.Add($"{urlKey}: '{url}' has a query, fragment or user info. Give the endpoint URL only; put credentials in 'headers'.");
            }
            else if (!seen.Add(url))
            {
                errors.Add($"{urlKey}: '{url}' is listed twice. Remove the duplicate.");
            }
        }

        if (!LoadBalancingPolicies.Contains(server.LoadBalancing))
        {
            errors.Add($"{key}.loadBalancing: '{server.LoadBalancing}' is not a policy. Use one of: {string.Join(", ", LoadBalancingPolicies)}.");
        }

        ValidatePositive($"{key}.timeouts.connect", server.Timeouts.Connect, errors);
        ValidatePositive($"{key}.timeouts.activity", server.Timeouts.Activity, errors);
        ValidatePositive($"{key}.healthCheck.interval", server.HealthCheck.Interval, errors);
        ValidatePositive($"{key}.healthCheck.timeout", server.HealthCheck.Timeout, errors);
        ValidateCircuitBreaker($"{key}.circuitBreaker", server.CircuitBreaker, errors);
        if (server.RateLimit is { } rateLimit)
        {
            ValidateRateLimit($"{key}.rateLimit", rateLimit, errors);
            foreach (var (tool, toolLimit) in rateLimit.Tools)
            {
                ValidateRateLimit($"{key}.rateLimit.tools.{tool}", toolLimit, errors);
            }
        }

        foreach (var (header, value) in server.Headers)
        {
            if (!HeaderNamePattern().IsMatch(header))
            {
                errors.Add($"{key}.headers.{header}: not a valid HTTP header name. Use letters, digits and '-'.");
            }
            else if (ReservedHeaders.Contains(header))
            {
                errors.Add($"{key}.headers.{header}: the gateway sets this header itself. Remove it.");
            }
            else if (value is null || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                errors.Add($"{key}.headers.{header}: the value is missing or has a line break. Give a single-line value.");
            }
        }

        if (server.MaxRequestBodyBytes is { } limit)
        {
            ValidateBodyLimit($"{key}.maxRequestBodyBytes", limit, errors);
        }
    }

    private static void ValidateBodyLimit(string key, long value, List<string> errors)
    {
        if (value is < MinBodyBytes or > MaxBodyBytes)
        {
            errors.Add($"{key}: {value} is out of range. Give a byte count from {MinBodyBytes} to {MaxBodyBytes}, e.g. 4194304 for 4 MiB.");
        }
    }

    private static void ValidateRateLimit(string key, RateLimitOptions limit, List<string> errors)
    {
        if (limit.RequestsPerMinute is < 1 or > 1_000_000)
        {
            errors.Add($"{key}.requestsPerMinute: '{limit.RequestsPerMinute}' is out of range. Give between 1 and 1000000 requests per minute per caller.");
        }

        if (limit.Burst is < 1 or > 1_000_000)
        {
            errors.Add($"{key}.burst: '{limit.Burst}' is out of range. Give between 1 and 1000000.");
        }
    }

    private static void ValidateCircuitBreaker(string key, CircuitBreakerOptions breaker, List<string> errors)
    {
        // Polly's own limits.
        if (breaker.FailureRatio is <= 0 or > 1)
        {
            errors.Add($"{key}.failureRatio: '{breaker.FailureRatio}' is out of range. Give a share above 0 and at most 1, e.g. 0.5.");
        }

        if (breaker.MinimumThroughput < 2)
        {
            errors.Add($"{key}.minimumThroughput: '{breaker.MinimumThroughput}' is too small. Give at least 2.");
        }

        if (breaker.SamplingDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"{key}.samplingDuration: '{breaker.SamplingDuration}' is too short. Give at least '00:00:00.5'.");
        }

        if (breaker.BreakDuration < TimeSpan.FromMilliseconds(500) || breaker.BreakDuration > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}.breakDuration: '{breaker.BreakDuration}' is out of range. Give between '00:00:00.5' and '1.00:00:00'.");
        }
    }

    private static void ValidatePositive(string key, TimeSpan value, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key}: '{value}' must be positive. Write a duration as 'hh:mm:ss', e.g. '00:00:30'.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex ServerNamePattern();

    [GeneratedRegex("^[A-Za-z0-9-]+$")]
    private static partial Regex HeaderNamePattern();
}
