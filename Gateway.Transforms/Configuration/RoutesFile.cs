namespace Gateway.Transforms.Configuration;

/// <summary>The routes file the gateway runs on, and why its last reload could not be parsed.</summary>
public sealed class RoutesFile(string path)
{
    private Exception? _parseError;

    /// <summary>The absolute path of the file.</summary>
    public string Path { get; } = path;

    /// <summary>Whether the file was loaded once; after that, parse errors are reload errors.</summary>
    public bool Loaded { get; set; }

    /// <summary>Called by the configuration source when a reload fails to parse.</summary>
    public void RecordParseError(Exception error) => _parseError = error;

    /// <summary>Returns and forgets the last parse error, so it is reported once.</summary>
    public Exception? TakeParseError() => Interlocked.Exchange(ref _parseError, null);
}
