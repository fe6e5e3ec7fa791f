using ModelContextProtocol.Client;

namespace Gateway.StdioBridge.Processes;

/// <summary>Says why a stdio server process stopped, in words its operator and its client can act on.</summary>
internal static class StdioExit
{
    // Enough of stderr to show the error a crashing program printed; the whole tail goes to the log line by line.
    private const int StandardErrorLines = 5;
    private const int StandardErrorLineLength = 200;

    /// <summary>"exited with code 3; its last stderr lines: …", from how the process's output ended.</summary>
    public static string Describe(Exception? ended) => ended switch
    {
        null => "exited",
        ClientTransportClosedException { Details: StdioClientCompletionDetails details } => Describe(details),
        _ => "stopped: " + ended.Message,
    };

    private static string Describe(StdioClientCompletionDetails details)
    {
        var exit = details.ExitCode is { } code ? $"exited with code {code}" : "exited";
        var tail = details.StandardErrorTail?
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .TakeLast(StandardErrorLines)
            .Select(line => line.Length > StandardErrorLineLength ? line[..StandardErrorLineLength] + "…" : line)
            .ToList();
        return tail is { Count: > 0 } ? $"{exit}; its last stderr lines: {string.Join(" | ", tail)}" : exit;
    }
}
