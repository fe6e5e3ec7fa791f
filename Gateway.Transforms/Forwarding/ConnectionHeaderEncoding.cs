using System.Collections.Frozen;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Decodes the <c>Connection</c> header for Kestrel (its <c>RequestHeaderEncodingSelector</c>), and refuses a value
/// whose nominated headers Kestrel would lose: when the only options Kestrel knows in it are one of
/// <c>keep-alive</c>, <c>close</c> or <c>upgrade</c>, Kestrel replaces the whole header with that option, so a header
/// named beside it (<c>Connection: keep-alive, X-Hop</c>) could no longer be told to stay with this hop.
/// </summary>
/// <remarks>Kestrel answers a value it could not decode with 400, before any application code runs.</remarks>
internal sealed class ConnectionHeaderEncoding : Encoding
{
    private static readonly ConnectionHeaderEncoding Instance = new();

    private static readonly Encoding Ascii = GetEncoding("us-ascii", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    // The options Kestrel recognises (and may keep alone), and headers that never leave this hop whatever the
    // Connection header says (YARP drops them): neither is a name that could be lost.
    private static readonly FrozenSet<string> NeverForwarded = new[]
    {
        "keep-alive", "close", "upgrade", HeaderNames.TE, HeaderNames.Trailer, HeaderNames.TransferEncoding, HeaderNames.KeepAlive,
        HeaderNames.ProxyConnection, "HTTP2-Settings",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Kestrel's choice of decoding per request header: this one for <c>Connection</c>, its default for the others.</summary>
    public static Encoding? For(string headerName) => string.Equals(headerName, "Connection", StringComparison.OrdinalIgnoreCase) ? Instance : null;

    public override int GetByteCount(char[] chars, int index, int count) => Ascii.GetByteCount(chars, index, count);

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) => Ascii.GetBytes(chars, charIndex, charCount, bytes, byteIndex);

    public override int GetCharCount(byte[] bytes, int index, int count) => Ascii.GetCharCount(bytes, index, count);

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
    {
        var written = Ascii.GetChars(bytes, byteIndex, byteCount, chars, charIndex);
        var (known, nominated) = (false, false);
        foreach (var token in new string(chars, charIndex, written).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            (known, nominated) = (known || IsOption(token), nominated || !NeverForwarded.Contains(token));
        }

        if (known && nominated)
        {
            throw new DecoderFallbackException("A Connection header that names other headers beside keep-alive, close or upgrade.");
        }

        return written;
    }

    private static bool IsOption(string token) =>
        token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) || token.Equals("close", StringComparison.OrdinalIgnoreCase) || token.Equals("upgrade", StringComparison.OrdinalIgnoreCase);

    public override int GetMaxByteCount(int charCount) => Ascii.GetMaxByteCount(charCount);

    public override int GetMaxCharCount(int byteCount) => Ascii.GetMaxCharCount(byteCount);
}
