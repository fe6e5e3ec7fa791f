namespace Gateway.StdioBridge.Processes;

/// <summary>
/// The loggers the MCP SDK's stdio transport writes through: its lines, without the exception and stack trace each
/// failure carries. The bridge reports a start failure or an exit itself, with its cause; the transport's other lines
/// (a server writing something other than JSON-RPC to stdout, say) stay visible.
/// </summary>
internal sealed class OneLineLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new OneLineLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The inner factory is the host's.
    }

    private sealed class OneLineLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception: null, formatter);
    }
}
