namespace Gateway.Mcp;

/// <summary>What an error message repeats of a client's input: enough to recognise it, never a whole body or header.</summary>
internal static class EchoedText
{
    public static string Of(string? value, int maxLength)
    {
        if (value is null || value.Length <= maxLength)
        {
            return value ?? string.Empty;
        }

        // Never half of a surrogate pair: the JSON writer refuses one.
        var length = char.IsHighSurrogate(value[maxLength - 1]) ? maxLength - 1 : maxLength;
        return string.Concat(value.AsSpan(0, length), "…");
    }
}
