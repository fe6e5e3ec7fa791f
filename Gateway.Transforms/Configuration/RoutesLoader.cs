using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Transforms.Configuration;

/// <summary>What routes.yaml configures: what an edit changes at once, and what is read at start-up only.</summary>
/// <param name="Routes">The servers and the reloadable gateway keys.</param>
/// <param name="Startup">The keys read at start-up only.</param>
/// <param name="StartupValues">Those keys as the configuration had them in the same read, to tell later edits of them.</param>
public sealed record GatewayConfiguration(RoutesOptions Routes, StartupOptions Startup, IReadOnlyDictionary<string, string?> StartupValues);

/// <summary>Reads the <c>servers</c> and <c>gateway</c> sections of the configuration and validates them.</summary>
public static class RoutesLoader
{
    /// <summary>The keys of the <c>gateway:</c> section that are read at start-up only.</summary>
    public static readonly IReadOnlySet<string> StartupKeys = ConfigurationReader.KeysOf(typeof(StartupOptions)).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads the file's options at start-up; null with every problem when it cannot be used.</summary>
    public static GatewayConfiguration? Load(IConfiguration configuration, out IReadOnlyList<string> errors)
    {
        var (read, found) = Read(configuration);
        found.AddRange(RoutesValidator.Validate(read.Routes, read.Startup));
        errors = found;
        return found.Count == 0 ? read : null;
    }

    /// <summary>
    /// Reads an edit of the file while running: its routes are checked against the start-up settings in force (an
    /// edit that needs settings the running gateway does not have is refused), its start-up keys on their own.
    /// </summary>
    public static GatewayConfiguration? Reload(IConfiguration configuration, StartupOptions inForce, out IReadOnlyList<string> errors)
    {
        var (read, found) = Read(configuration);
        found.AddRange(RoutesValidator.ValidateStartup(read.Startup));
        found.AddRange(RoutesValidator.ValidateRoutes(read.Routes, inForce));
        errors = found;
        return found.Count == 0 ? read : null;
    }

    private static (GatewayConfiguration Read, List<string> Errors) Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<string>();
        CheckTopLevelKeys(configuration, errors);

        // Each server is read on its own, so that a bad key in one names that server and spares the others' checks.
        var servers = new Dictionary<string, McpServerOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in configuration.GetSection("servers").GetChildren())
        {
            servers[section.Key] = ConfigurationReader.Read<McpServerOptions>(section, errors);
        }

        // One section in the file, two kinds of keys: each reader skips the other's.
        var gateway = configuration.GetSection("gateway");
        var reloadable = ConfigurationReader.Read<GatewayOptions>(gateway, errors, skip: StartupKeys.Contains);
        var startup = ConfigurationReader.Read<StartupOptions>(gateway, errors, skip: key => !StartupKeys.Contains(key));
        return (new GatewayConfiguration(new RoutesOptions { Servers = servers, Gateway = reloadable }, startup, StartupValuesOf(configuration)), errors);
    }

    /// <summary>A routes file holds <c>servers</c> and <c>gateway</c>; anything else at its top is a typo (<c>gatway:</c>) that would go unnoticed.</summary>
    private static void CheckTopLevelKeys(IConfiguration configuration, List<string> errors)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return;
        }

        var yamlFiles = root.Providers.OfType<FileConfigurationProvider>()
            .Where(p => p.Source.Path is { } path && (path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)));
        foreach (var key in yamlFiles.SelectMany(p => p.GetChildKeys([], parentPath: null)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (!string.Equals(key, "servers", StringComparison.OrdinalIgnoreCase) && !string.Equals(key, "gateway", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{key}: unknown key at the top of the file. Keys here: servers, gateway.");
            }
        }
    }

    /// <summary>The start-up keys as the configuration has them (<c>gateway:sessions:lifetime</c> → value), to tell when an edit changed one.</summary>
    private static Dictionary<string, string?> StartupValuesOf(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection("gateway").GetChildren()
            .Where(section => StartupKeys.Contains(section.Key))
            .SelectMany(section => section.AsEnumerable())
            .Where(pair => pair.Value is not null)
            .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase);
    }
}
