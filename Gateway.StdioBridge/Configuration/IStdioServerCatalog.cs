namespace Gateway.StdioBridge.Configuration;

/// <summary>The stdio servers the bridge may start, by name; read on every new session, so edits apply to new sessions.</summary>
public interface IStdioServerCatalog
{
    /// <summary>The server's current settings, if it is configured.</summary>
    bool TryGet(string server, out StdioServerOptions options);

    /// <summary>The names of the configured servers.</summary>
    IEnumerable<string> Names { get; }
}
