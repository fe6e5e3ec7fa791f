using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>Writes routes.yaml for a test: servers with their destinations and extra keys, and gateway settings.</summary>
public sealed class RoutesYaml
{
    /// <summary>A server line turning active health probes off, for tests that assert the upstream received nothing.</summary>
    public const string NoProbes = "healthCheck: { enabled: false }";

    private readonly StringBuilder _servers = new();
    private readonly List<string> _gateway = [];

    /// <summary>Starts a file whose sessions are sealed with keys kept in <paramref name="keysDirectory"/> (a fresh one by default) or in Redis.</summary>
    public RoutesYaml(string? keysDirectory = null, string? redis = null)
    {
        _gateway.Add("dataProtection:");
        _gateway.Add(redis is null ? $"  keysDirectory: '{keysDirectory ?? TempDirectory.Create()}'" : $"  redis: '{redis}'");
    }

    /// <summary>Adds a server; each of <paramref name="extraLines"/> is a YAML line under it (e.g. <c>loadBalancing: RoundRobin</c>).</summary>
    public RoutesYaml Server(string name, IEnumerable<Uri> destinations, params string[] extraLines)
    {
        _servers.AppendLine($"  {name}:");
        _servers.AppendLine("    destinations:");
        foreach (var destination in destinations)
        {
            _servers.AppendLine($"      - url: '{destination}'");
        }

        foreach (var line in extraLines)
        {
            _servers.AppendLine("    " + line);
        }

        return this;
    }

    public RoutesYaml Server(string name, TestUpstream upstream, params string[] extraLines) => Server(name, [upstream.Endpoint], extraLines);

    /// <summary>Adds a stdio server; each of <paramref name="stdioLines"/> is a YAML line under its <c>stdio:</c> (e.g. <c>warmPool: 1</c>).</summary>
    public RoutesYaml StdioServer(string name, StdioCommand command, params string[] stdioLines)
    {
        _servers.AppendLine($"  {name}:");
        _servers.AppendLine("    transport: stdio");
        _servers.AppendLine("    stdio:");
        _servers.AppendLine($"      command: '{command.Program}'");
        _servers.AppendLine($"      args: [{string.Join(", ", command.Args.Select(a => $"'{a}'"))}]");
        foreach (var line in stdioLines)
        {
            _servers.AppendLine("      " + line);
        }

        return this;
    }

    /// <summary>Adds a virtual server of <paramref name="members"/>; each of <paramref name="extraLines"/> is a YAML line under it.</summary>
    public RoutesYaml VirtualServer(string name, IEnumerable<string> members, params string[] extraLines)
    {
        _servers.AppendLine($"  {name}:");
        _servers.AppendLine("    transport: virtual");
        _servers.AppendLine($"    members: [{string.Join(", ", members)}]");
        foreach (var line in extraLines)
        {
            _servers.AppendLine("    " + line);
        }

        return this;
    }

    /// <summary>Adds lines under <c>gateway:</c>.</summary>
    public RoutesYaml Gateway(params string[] lines)
    {
        _gateway.AddRange(lines);
        return this;
    }

    public override string ToString() =>
        "servers:\n" + _servers + "gateway:\n" + string.Concat(_gateway.Select(l => "  " + l + "\n"));
}
