using System.Text.RegularExpressions;
using Gateway.StdioBridge.Configuration;
using Gateway.Transforms.Forwarding;
using Gateway.Transforms.Guard;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Limits;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Policy;
using Gateway.Transforms.Resilience;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Shutdown;
using Gateway.Transforms.UpstreamTokens;
using Gateway.Transforms.VirtualServers;

namespace Gateway.Transforms.Configuration;

/// <summary>
/// Checks routes.yaml as a whole and reports every problem at once, each naming its key and how to fix it. Each
/// section is checked by the validator of its feature; this one composes them, as YARP's ConfigValidator does.
/// </summary>
internal static partial class RoutesValidator
{
    /// <summary>Every problem of a whole file: its start-up keys and its routes.</summary>
    public static IReadOnlyList<string> Validate(RoutesOptions routes, StartupOptions startup) =>
        [.. ValidateStartup(startup), .. ValidateRoutes(routes, startup)];

    /// <summary>Every problem of the keys read at start-up only.</summary>
    public static IReadOnlyList<string> ValidateStartup(StartupOptions startup)
    {
        ArgumentNullException.ThrowIfNull(startup);
        var errors = new List<string>();
        AuthValidator.ValidateStartup(startup.Auth, errors);
        GuardValidator.ValidateStartup(startup, errors);
        SessionValidator.Validate(startup.Sessions, startup.DataProtection, errors);
        UpstreamAuthValidator.ValidateTokenCache(startup.TokenCache, errors);
        ShutdownValidator.Validate(startup.Shutdown, errors);
        return errors;
    }

    /// <summary>Every problem of the servers and the reloadable gateway keys, checked against the start-up settings in force.</summary>
    public static IReadOnlyList<string> ValidateRoutes(RoutesOptions routes, StartupOptions startup)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(startup);
        var errors = new List<string>();
        GuardValidator.ValidateGateway(routes.Gateway, errors);
        AuthValidator.ValidateGateway(routes.Gateway, errors);

        if (routes.Servers.Count == 0)
        {
            errors.Add("servers: no server is configured. Add one, e.g. 'servers: { everything: { destinations: [ { url: http://127.0.0.1:3001/mcp } ] } }'.");
        }

        foreach (var (name, server) in routes.Servers)
        {
            ValidateServer($"servers.{name}", name, server, routes.Servers, routes.Gateway, startup, errors);
        }

        return errors;
    }

    private static void ValidateServer(string key, string name, McpServerOptions server, IReadOnlyDictionary<string, McpServerOptions> servers, GatewayOptions gateway, StartupOptions startup, List<string> errors)
    {
        if (!ServerNamePattern().IsMatch(name))
        {
            errors.Add($"{key}: '{name}' cannot be a URL path segment. Use letters, digits, '-', '_' and '.', starting with a letter or digit.");
        }

        switch (server.Transport)
        {
            case McpTransport.Http when server.Stdio is not null:
                errors.Add($"{key}.stdio: only a 'transport: stdio' server runs a process. Remove 'stdio', or set 'transport: stdio' and remove 'destinations'.");
                break;
            case McpTransport.Http:
                ForwardingValidator.ValidateDestinations(key, server.Destinations, errors);
                break;
            case McpTransport.Stdio when server.Destinations.Count > 0:
                errors.Add($"{key}.destinations: a stdio server is reached through the gateway's own bridge. Remove 'destinations'.");
                break;
            case McpTransport.Stdio:
                StdioServerOptionsValidator.Validate($"{key}.stdio", server.Stdio, errors);
                break;
        }

        VirtualServerValidator.ValidateServer(key, server, servers, errors);

        ForwardingValidator.ValidateServer(key, server, errors);
        GuardValidator.ValidateServer(key, server, errors);
        PolicyValidator.ValidateServer(key, server, errors);
        ToolPinningValidator.ValidateServer(key, server, errors);
        CircuitBreakerValidator.Validate($"{key}.circuitBreaker", server.CircuitBreaker, errors);
        if (server.RateLimit is { } rateLimit)
        {
            RateLimitValidator.Validate($"{key}.rateLimit", rateLimit, errors);
        }

        AuthValidator.ValidateServer(key, server.Auth, startup.Auth, gateway, errors);
        UpstreamAuthValidator.ValidateServer(key, server, startup.Auth, errors);
    }

    /// <summary>Adds an error unless <paramref name="value"/> is above zero.</summary>
    public static void RequirePositive(string key, TimeSpan value, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key}: '{value}' must be positive, e.g. '30s'.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex ServerNamePattern();
}
