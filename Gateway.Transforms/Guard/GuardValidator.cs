using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Guard;

/// <summary>Checks what the guard enforces: body limits, allowed browser origins, trusted proxies.</summary>
internal static class GuardValidator
{
    private const long MinBodyBytes = 1024;
    private const long MaxBodyBytes = 1024L * 1024 * 1024;

    public static void ValidateStartup(StartupOptions startup, List<string> errors)
    {
        for (var i = 0; i < startup.TrustedProxies.Count; i++)
        {
            if (!TrustedProxies.TryParse(startup.TrustedProxies[i], out _))
            {
                errors.Add($"gateway.trustedProxies[{i}]: '{startup.TrustedProxies[i]}' is neither an IP address nor a network. Write e.g. '10.0.0.5' or '10.0.0.0/8'.");
            }
        }
    }

    public static void ValidateGateway(GatewayOptions gateway, List<string> errors)
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
    }

    public static void ValidateServer(string key, McpServerOptions server, List<string> errors)
    {
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
}
