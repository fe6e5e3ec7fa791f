using Gateway.StdioBridge.Configuration;
using Gateway.StdioBridge.Hosting;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// Checks routes.yaml as a whole and reports every problem at once, each naming its key and how to fix it.
/// </summary>
public sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private const long MinBodyBytes = 1024;
    private const long MaxBodyBytes = 1024L * 1024 * 1024;

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

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
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
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateGateway(GatewaySettings gateway, List<string> errors)
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
