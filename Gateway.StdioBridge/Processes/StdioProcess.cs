using ModelContextProtocol.Protocol;

namespace Gateway.StdioBridge.Processes;

/// <summary>One running stdio MCP server process, as a JSON-RPC message transport (the MCP SDK's stdio transport).</summary>
internal sealed class StdioProcess(string server, ITransport connection) : IAsyncDisposable
{
    private int _disposed;

    public string Server { get; } = server;

    public ITransport Connection { get; } = connection;

    /// <summary>The session the process serves, for its stderr log lines; null while it waits in the pool.</summary>
    public string? SessionId { get; set; }

    /// <summary>The process has exited (its stdout ended).</summary>
    public bool HasExited => Connection.MessageReader.Completion.IsCompleted;

    /// <summary>Closes stdin, waits the shutdown grace for the process to exit, then kills its process tree.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
