using System.Text;

namespace Gateway.Mcp;

/// <summary>Decodes the Base64 sentinel form (<c>=?base64?…?=</c>) that 2026-07-28 clients use for header values that are not plain ASCII.</summary>
public static class McpHeaderValue
{
    private const string Prefix = "=?base64?";
    private const string Suffix = "?=";

    /// <summary>Returns the value the header carries, or null when the sentinel form is malformed.</summary>
    public static string? Decode(string headerValue)
    {
        ArgumentNullException.ThrowIfNull(headerValue);
        if (!headerValue.StartsWith(Prefix, StringComparison.Ordinal) || !headerValue.EndsWith(Suffix, StringComparison.Ordinal)
            || headerValue.Length < Prefix.Length + Suffix.Length)
        {
            return headerValue;
        }

        var encoded = headerValue.AsSpan(Prefix.Length, headerValue.Length - Prefix.Length - Suffix.Length);
        var bytes = new byte[(encoded.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64Chars(encoded, bytes, out var written))
        {
            return null;
        }

        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
