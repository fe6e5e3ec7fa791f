using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gateway.Configuration;

/// <summary>
/// Says why a YAML configuration file does not load, with the line and column of each problem: syntax errors, and
/// keys given twice in one mapping. The configuration source's own error names neither where nor, at times, what
/// ("Operation is not valid due to the current state of the object"; "Duplicate key a").
/// </summary>
/// <remarks>Shared as source with the stdio bridge, whose own file is YAML too.</remarks>
internal static class YamlSyntax
{
    /// <summary>The problems of the file at <paramref name="path"/>, which the configuration source failed to load with <paramref name="error"/>.</summary>
    public static IReadOnlyList<string> ProblemsOf(string path, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [$"The file could not be read: {ex.Message}"];
        }

        var problems = Problems(text);
        return problems.Count > 0 ? problems : [$"The file is not valid YAML: {(error.InnerException ?? error).Message}"];
    }

    /// <summary>Every duplicate key, and the first syntax error (the parser cannot go on after one).</summary>
    public static IReadOnlyList<string> Problems(string text)
    {
        var problems = new List<string>();
        var open = new Stack<Node>();
        var readUpTo = Mark.Empty;
        try
        {
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                readUpTo = parser.Current!.End;
                switch (parser.Current)
                {
                    case MappingStart start:
                        open.Push(new Node(Started(open, start, problems), isMapping: true));
                        break;
                    case SequenceStart start:
                        open.Push(new Node(Started(open, start, problems), isMapping: false));
                        break;
                    case MappingEnd or SequenceEnd:
                        open.Pop();
                        break;
                    case Scalar or AnchorAlias:
                        Started(open, parser.Current, problems);
                        break;
                }
            }
        }
        catch (YamlException ex)
        {
            problems.Add($"Not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {WithoutPosition(ex.Message)}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails so on some broken input (an unclosed flow sequence followed by a key): where
            // it failed is not known, only where the last node it could read ends.
            problems.Add($"Not valid YAML after line {readUpTo.Line}, column {readUpTo.Column}: check the brackets, quotes and indentation from there on.");
        }

        return problems;
    }

    /// <summary>Takes a node's start within its parent: a mapping's key (checked against the keys before it) or a value.</summary>
    /// <returns>The key path of a value, for its own children.</returns>
    private static string Started(Stack<Node> open, ParsingEvent node, List<string> problems)
    {
        if (!open.TryPeek(out var parent))
        {
            return "";
        }

        if (!parent.IsMapping)
        {
            return $"{parent.Path}[{parent.Count++}]";
        }

        if (parent.PendingKey is { } key)
        {
            // This is the key's value; the next node is a key again.
            parent.PendingKey = null;
            return Join(parent.Path, key);
        }

        // A key that is no plain scalar (a list, an alias) is no configuration key: nothing to compare it with.
        key = (node as Scalar)?.Value ?? "?";
        var line = checked((int)node.Start.Line);
        if (node is Scalar && !parent.Keys.TryAdd(key, line))
        {
            problems.Add($"{Join(parent.Path, key)}: given twice, at line {parent.Keys[key]} and line {line}. Keep one.");
        }

        parent.PendingKey = key;
        return "";
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    // "(Line: 4, Col: 3, Idx: 60) - (Line: 4, Col: 3, Idx: 60): While parsing …": the position is given apart.
    private static string WithoutPosition(string message) => message.IndexOf("): ", StringComparison.Ordinal) is var end and >= 0 ? message[(end + 3)..] : message;

    private sealed class Node(string path, bool isMapping)
    {
        public string Path { get; } = path;

        public bool IsMapping { get; } = isMapping;

        // Configuration keys are case-insensitive: 'Transport' and 'transport' are one key.
        public Dictionary<string, int> Keys { get; } = new(StringComparer.OrdinalIgnoreCase);

        public string? PendingKey { get; set; }

        public int Count { get; set; }
    }
}
