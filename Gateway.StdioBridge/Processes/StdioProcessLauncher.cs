using System.ComponentModel;
using Gateway.StdioBridge.Configuration;
using ModelContextProtocol.Client;

namespace Gateway.StdioBridge.Processes;

/// <summary>Starts stdio server processes with the MCP SDK's stdio transport, with only the allowed environment.</summary>
internal sealed partial class StdioProcessLauncher(ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Gateway.StdioBridge.ServerOutput");

    public async Task<StdioProcess> StartAsync(string server, StdioServerOptions options, CancellationToken cancellationToken)
    {
        StdioProcess? process = null;
        var transport = new StdioClientTransport(
            new StdioClientTransportOptions
            {
                Name = "stdio:" + server,
                Command = options.Command!,
                Arguments = [.. options.Args],
                WorkingDirectory = options.WorkingDirectory,
                InheritEnvironmentVariables = false,
                EnvironmentVariables = options.ChildEnvironment(Environment.GetEnvironmentVariable),
                ShutdownTimeout = options.ShutdownGrace,
                StandardErrorLines = line => LogStandardError(_logger, server, process?.SessionId ?? "-", line),
            },
            new OneLineLoggerFactory(loggerFactory));
        try
        {
            process = new StdioProcess(server, await transport.ConnectAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (IOException ex) when (ex.InnerException is Win32Exception start)
        {
            throw new StdioStartException(server, options, start);
        }

        return process;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "[{Server} {SessionId}] {Line}")]
    private static partial void LogStandardError(ILogger logger, string server, string sessionId, string line);
}
