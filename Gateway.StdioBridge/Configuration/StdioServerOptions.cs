using ModelContextProtocol.Client;

namespace Gateway.StdioBridge.Configuration;

/// <summary>How to run one stdio MCP server: <c>servers.&lt;name&gt;.stdio</c> in routes.yaml, or the bridge's own file.</summary>
public sealed record StdioServerOptions
{
    /// <summary>The program to start, e.g. <c>npx</c>, <c>node</c>, <c>uvx</c>, <c>dotnet</c>; found on the gateway's PATH.</summary>
    public string? Command { get; init; }

    /// <summary>Its arguments, one per entry (no shell quoting).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>The working directory; the gateway's current directory when unset.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set for the child.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Names of the gateway's own variables the child may see. Nothing else of the gateway's environment reaches it.
    /// Unset means the MCP SDKs' default allowlist (on Unix: HOME, LOGNAME, PATH, SHELL, TERM, USER).
    /// </summary>
    public IReadOnlyList<string>? InheritEnvironment { get; init; }

    /// <summary>
    /// <c>perSession</c> (the default): a process of its own for every session, as stdio servers expect one client.
    /// <c>shared</c>: one process serves every session, for servers that keep no per-client state.
    /// </summary>
    public StdioProcessMode Mode { get; init; } = StdioProcessMode.PerSession;

    /// <summary>How many processes of this server may run at once (sessions and the warm pool); beyond it, 503.</summary>
    public int MaxProcesses { get; init; } = 16;

    /// <summary>
    /// How many sessions (each with its process) one caller may have at once, so one caller cannot take every process.
    /// A caller at its limit that starts another ends its own session idle the longest. Only for <c>perSession</c>,
    /// and only when below <see cref="MaxProcesses"/> (otherwise the process limit is the one that applies).
    /// </summary>
    public int MaxSessionsPerCaller { get; init; } = 4;

    /// <summary>Whether <see cref="MaxSessionsPerCaller"/> limits a caller before the process limit does.</summary>
    public bool LimitsSessionsPerCaller => Mode == StdioProcessMode.PerSession && MaxSessionsPerCaller < MaxProcesses;

    /// <summary>How long a session may go without a request before its process is stopped.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How many processes are kept started and waiting, so a new session does not wait for one to start.</summary>
    public int WarmPool { get; init; }

    /// <summary>How long a process gets to exit after its stdin is closed before it is killed.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The environment the child gets: the allowlisted part of <paramref name="gatewayEnvironment"/>, then <see cref="Environment"/>.</summary>
    public Dictionary<string, string?> ChildEnvironment(Func<string, string?> gatewayEnvironment)
    {
        ArgumentNullException.ThrowIfNull(gatewayEnvironment);
        Dictionary<string, string?> result;
        if (InheritEnvironment is null)
        {
            result = StdioClientTransportOptions.GetDefaultEnvironmentVariables();
        }
        else
        {
            result = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var name in InheritEnvironment)
            {
                if (gatewayEnvironment(name) is { } value)
                {
                    result[name] = value;
                }
            }
        }

        foreach (var (name, value) in Environment)
        {
            result[name] = value;
        }

        return result;
    }
}

/// <summary>How sessions map to processes.</summary>
public enum StdioProcessMode
{
    /// <summary>One process per session.</summary>
    PerSession,

    /// <summary>One process for all sessions.</summary>
    Shared,
}
