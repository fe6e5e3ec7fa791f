namespace Gateway.Mcp;

/// <summary>What an error message repeats of a client's input: enough to recognise it, never a whole body or header.</summary>
internal static class EchoedText
{
    public static string Of(string? value, int maxLength) =>
        value is null ? string.Empty : value.Length <= maxLength ? value : string.Concat(value.AsSpan(0, maxLength), "…");
}
