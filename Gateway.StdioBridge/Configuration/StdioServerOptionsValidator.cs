namespace Gateway.StdioBridge.Configuration;

/// <summary>Checks a stdio server's settings, naming each bad key (under <c>keyPrefix</c>) and its fix.</summary>
public static class StdioServerOptionsValidator
{
    private const int MaxProcessesLimit = 1024;

    public static void Validate(string keyPrefix, StdioServerOptions? options, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (options is null || string.IsNullOrWhiteSpace(options.Command))
        {
            errors.Add($"{keyPrefix}.command: missing. Name the program that runs the server, e.g. 'command: npx' with 'args: [-y, @modelcontextprotocol/server-everything]'.");
            return;
        }

        if (options.WorkingDirectory is { } directory && !Directory.Exists(directory))
        {
            errors.Add($"{keyPrefix}.workingDirectory: '{directory}' does not exist. Create it or remove the key.");
        }

        if (options.MaxProcesses is < 1 or > MaxProcessesLimit)
        {
            errors.Add($"{keyPrefix}.maxProcesses: {options.MaxProcesses} is out of range. Give 1 to {MaxProcessesLimit}.");
        }

        if (options.WarmPool < 0 || options.WarmPool > options.MaxProcesses)
        {
            errors.Add($"{keyPrefix}.warmPool: {options.WarmPool} must be between 0 and maxProcesses ({options.MaxProcesses}).");
        }

        if (options.MaxSessionsPerCaller < 1)
        {
            errors.Add($"{keyPrefix}.maxSessionsPerCaller: {options.MaxSessionsPerCaller} must be at least 1 (at maxProcesses or above, only the process limit applies).");
        }

        if (options.IdleTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{keyPrefix}.idleTimeout: '{options.IdleTimeout}' must be positive, e.g. '00:30:00'.");
        }

        if (options.ShutdownGrace < TimeSpan.Zero)
        {
            errors.Add($"{keyPrefix}.shutdownGrace: '{options.ShutdownGrace}' must not be negative, e.g. '00:00:05'.");
        }

        foreach (var name in options.Environment.Keys.Concat(options.InheritEnvironment ?? []))
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add($"{keyPrefix}.environment: '{name}' is not a variable name.");
            }
        }
    }
}
