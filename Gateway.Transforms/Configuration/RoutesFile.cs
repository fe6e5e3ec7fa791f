using Gateway.Configuration;

namespace Gateway.Transforms.Configuration;

/// <summary>The routes file the gateway runs on, and why its last reload could not be parsed.</summary>
public sealed class RoutesFile(string path)
{
    private string? _parseError;

    /// <summary>The absolute path of the file.</summary>
    public string Path { get; } = path;

    /// <summary>Whether the file was loaded once; after that, parse errors are reload errors.</summary>
    public bool Loaded { get; set; }

    /// <summary>Called by the configuration source when a reload fails to parse.</summary>
    public void RecordParseError(Exception error) => _parseError = string.Join(" | ", ProblemsOf(error));

    /// <summary>Why the file does not parse, each problem with its line: what the configuration source's <paramref name="error"/> does not say.</summary>
    public IReadOnlyList<string> ProblemsOf(Exception error) => YamlSyntax.ProblemsOf(Path, error);

    /// <summary>Returns and forgets why the last reload did not parse, so it is reported once.</summary>
    public string? TakeParseError() => Interlocked.Exchange(ref _parseError, null);
}
