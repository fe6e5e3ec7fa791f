using System.Collections.Frozen;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Decodes the <c>Connection</c> header for Kestrel (its <c>RequestHeaderEncodingSelector</c>) so that the headers it
/// names survive Kestrel's parsing: when the only option Kestrel knows in the request's <c>Connection</c> lines is one
/// of <c>keep-alive</c>, <c>close</c> or <c>upgrade</c>, it replaces the whole header with that option, and a header
/// named beside it (<c>Connection: keep-alive, X-Hop</c>, or <c>X-Hop</c> and <c>keep-alive</c> on two lines) could no
/// longer be told to stay with this hop.
/// </summary>
/// <remarks>
/// A line that names such a header gets <c>close, keep-alive</c> added: two options, which Kestrel keeps as they are,
/// whatever the request's other lines say. <c>close</c> ends the connection after the answer, a small price for a
/// request that names hop-by-hop headers of its own; <see cref="ConnectionNominatedRequestHeadersTransform"/> then
/// sees every name.
/// </remarks>
internal sealed class ConnectionHeaderEncoding : Encoding
{
    private const string KeptWhole = ", close, keep-alive";

    private static readonly ConnectionHeaderEncoding Instance = new();

    private static readonly Encoding Ascii = GetEncoding("us-ascii", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    // Kestrel's options (keep-alive, close, upgrade: two of them header names as well), and headers that never leave
    // this hop whatever the Connection header says (YARP drops them): naming only these loses nothing.
    private static readonly FrozenSet<string> NeverForwarded = new[]
    {
        HeaderNames.KeepAlive, "close", HeaderNames.Upgrade, HeaderNames.TE, HeaderNames.Trailer, HeaderNames.TransferEncoding,
        HeaderNames.ProxyConnection, "HTTP2-Settings",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Kestrel's choice of decoding per request header: this one for <c>Connection</c>, its default for the others.</summary>
    public static Encoding? For(string headerName) => string.Equals(headerName, "Connection", StringComparison.OrdinalIgnoreCase) ? Instance : null;

    public override int GetByteCount(char[] chars, int index, int count) => Ascii.GetByteCount(chars, index, count);

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) => Ascii.GetBytes(chars, charIndex, charCount, bytes, byteIndex);

    public override int GetCharCount(byte[] bytes, int index, int count) => Decode(bytes, index, count).Length;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
    {
        var value = Decode(bytes, byteIndex, byteCount);
        value.CopyTo(0, chars, charIndex, value.Length);
        return value.Length;
    }

    public override int GetMaxByteCount(int charCount) => Ascii.GetMaxByteCount(charCount);

    public override int GetMaxCharCount(int byteCount) => Ascii.GetMaxCharCount(byteCount) + KeptWhole.Length;

    private static string Decode(byte[] bytes, int index, int count)
    {
        var value = Ascii.GetString(bytes, index, count);
        return NamesForwardableHeaders(value) ? value + KeptWhole : value;
    }

    private static bool NamesForwardableHeaders(string value)
    {
        foreach (var token in ConnectionNominatedHeaders.Tokens(value))
        {
            if (!NeverForwarded.Contains(token))
            {
                return true;
            }
        }

        return false;
    }
}
