using System.ComponentModel;
using Gateway.StdioBridge.Configuration;

namespace Gateway.StdioBridge.Processes;

/// <summary>A stdio server's program could not be started; the message says why, for its client and the log.</summary>
internal sealed class StdioStartException(string server, StdioServerOptions options, Win32Exception cause)
    : IOException(Describe(server, options, cause), cause)
{
    // errno values as Process.Start reports them on Unix; Windows' ERROR_FILE_NOT_FOUND is 2 as well.
    private const int NotFound = 2;
    private const int PermissionDenied = 13;

    private static string Describe(string server, StdioServerOptions options, Win32Exception cause)
    {
        var start = $"The MCP server process of '{server}' could not be started: ";
        if (options.WorkingDirectory is { } directory && !Directory.Exists(directory))
        {
            // The runtime reports a missing working directory as a missing program.
            return start + $"its working directory '{directory}' does not exist.";
        }

        return start + cause.NativeErrorCode switch
        {
            NotFound => $"the command '{options.Command}' was not found on the gateway's PATH (or, for a script, its interpreter was not).",
            PermissionDenied => $"the command '{options.Command}' is not executable.",
            _ => cause.Message,
        };
    }
}
