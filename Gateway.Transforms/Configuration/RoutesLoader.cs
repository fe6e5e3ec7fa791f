using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Transforms.Configuration;

/// <summary>Binds the <c>servers</c> and <c>gateway</c> sections of the configuration and validates them.</summary>
public static class RoutesLoader
{
    private const string UnknownKeysMarker = "properties were not found on the instance of";
    private static readonly RoutesValidator Validator = new();

    /// <summary>Returns the options, or every error found; unknown keys (typos) and unreadable values are errors too.</summary>
    public static RoutesOptions? Load(IConfiguration configuration, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new RoutesOptions();
        var found = new List<string>();

        // Each server is bound on its own, so a bad key in one names that server and spares the others' checks.
        foreach (var section in configuration.GetSection("servers").GetChildren())
        {
            var server = new McpServerOptions();
            if (TryBind(section, server, found))
            {
                options.Servers[section.Key] = server;
            }
        }

        var unbound = found.Count;
        TryBind(configuration.GetSection("gateway"), options.Gateway, found);

        var result = Validator.Validate(Options.DefaultName, options);
        if (result.Failed && (unbound == 0 || options.Servers.Count > 0))
        {
            found.AddRange(result.Failures);
        }

        errors = found;
        return found.Count == 0 ? options : null;
    }

    private static bool TryBind(IConfigurationSection section, object target, List<string> errors)
    {
        try
        {
            section.Bind(target, binder => binder.ErrorOnUnknownConfiguration = true);
            return true;
        }
        catch (InvalidOperationException ex)
        {
            var reason = (ex.InnerException ?? ex).Message;
            var unknown = reason.IndexOf(UnknownKeysMarker, StringComparison.Ordinal);
            if (unknown >= 0)
            {
                reason = $"unknown key(s) {reason[(reason.IndexOf(':', unknown) + 2)..]}.";
            }

            errors.Add($"{section.Path.Replace(':', '.')}: {reason} Check the spelling of the key and the format of the value (durations are 'hh:mm:ss').");
            return false;
        }
    }
}
