using System.Globalization;
using Gateway.Mcp;

namespace Gateway.StdioBridge.Configuration;

/// <summary>
/// The bridge executable's command line: where to listen, and either one server given inline after <c>--</c> or a
/// YAML file of servers.
/// </summary>
/// <remarks>
/// <c>Gateway.StdioBridge [--host 127.0.0.1] [--port 3001] --name everything -- npx -y @modelcontextprotocol/server-everything</c><br/>
/// <c>Gateway.StdioBridge [--host …] [--port …] --config bridge.yaml</c>, the file holding
/// <c>servers: { &lt;name&gt;: { command, args, environment, inheritEnvironment, maxProcesses, idleTimeout, warmPool, shutdownGrace } }</c>.
/// </remarks>
public sealed record StdioBridgeSettings(string Url, string? ConfigFile, string? Name, StdioServerOptions? Inline)
{
    public const string Usage =
        "usage: Gateway.StdioBridge [--host <address>] [--port <port>] (--config <bridge.yaml> | --name <server> -- <command> [args...])";

    /// <summary>Reads the command line; returns null with the reason when it does not make sense.</summary>
    public static StdioBridgeSettings? Parse(IReadOnlyList<string> args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var host = "127.0.0.1";
        var port = 3001;
        string? config = null, name = null;
        List<string>? command = null;
        error = null;

        for (var i = 0; i < args.Count && command is null; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            switch (args[i])
            {
                case "--":
                    command = [.. args.Skip(i + 1)];
                    continue;
                case "--host" when value is not null:
                    host = value;
                    break;
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 0 and <= 65535:
                    port = parsed;
                    break;
                case "--config" when value is not null:
                    config = value;
                    break;
                case "--name" when value is not null:
                    name = value;
                    break;
                default:
                    error = $"'{args[i]}' is not understood here.";
                    return null;
            }

            i++;
        }

        var url = ListenUrl.Of(host, port.ToString(CultureInfo.InvariantCulture));
        if (config is not null && command is null && name is null)
        {
            return new StdioBridgeSettings(url, config, null, null);
        }

        if (config is null && command is [var program, .. var rest] && !string.IsNullOrWhiteSpace(name))
        {
            return new StdioBridgeSettings(url, null, name, new StdioServerOptions { Command = program, Args = rest });
        }

        error = "Give either --config <file>, or --name <server> followed by -- and the server's command.";
        return null;
    }
}
