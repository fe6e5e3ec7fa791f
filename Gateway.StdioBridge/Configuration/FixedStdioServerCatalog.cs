using Gateway.Configuration;
using Microsoft.Extensions.Configuration;
namespace Gateway.StdioBridge.Configuration;

/// <summary>A catalog that does not change while the bridge runs: the bridge executable's.</summary>
public sealed class FixedStdioServerCatalog(IReadOnlyDictionary<string, StdioServerOptions> servers) : IStdioServerCatalog
{
    public IEnumerable<string> Names => servers.Keys;

    public bool TryGet(string server, out StdioServerOptions options) => servers.TryGetValue(server, out options!);

    /// <summary>Reads <c>servers:</c> from a YAML file and validates every server, collecting all errors.</summary>
    public static FixedStdioServerCatalog? Load(string path, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!File.Exists(path))
        {
            errors.Add($"{path}: the file does not exist.");
            return null;
        }

        IConfiguration configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddYamlFile(Path.GetFullPath(path)).Build();
        }
        catch (InvalidDataException ex)
        {
            errors.AddRange(YamlSyntax.ProblemsOf(path, ex).Select(problem => $"{path}: {problem}"));
            return null;
        }

        var servers = new Dictionary<string, StdioServerOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in configuration.GetSection("servers").GetChildren())
        {
            var options = ConfigurationReader.Read<StdioServerOptions>(section, errors);
            StdioServerOptionsValidator.Validate($"servers.{section.Key}", options, errors);
            servers[section.Key] = options;
        }

        if (servers.Count == 0 && errors.Count == 0)
        {
            errors.Add("servers: no server is configured, e.g. 'servers: { everything: { command: npx, args: [-y, @modelcontextprotocol/server-everything] } }'.");
        }

        return errors.Count == 0 ? new FixedStdioServerCatalog(servers) : null;
    }
}
