using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Mcp;

/// <summary>SHA-256 of a string's UTF-8 bytes: how callers, sessions and cache keys appear where their names must not.</summary>
internal static class Sha256Text
{
    public static byte[] Hash(string text)
    {
        var hash = new byte[SHA256.HashSizeInBytes];
        Hash(text, hash);
        return hash;
    }

    /// <summary>The first <paramref name="bytes"/> bytes of the hash, in lower-case hex.</summary>
    public static string Hex(string text, int bytes = SHA256.HashSizeInBytes)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(text, hash);
        return Convert.ToHexStringLower(hash[..bytes]);
    }

    private static void Hash(string text, Span<byte> destination)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            SHA256.HashData(buffer.AsSpan(0, Encoding.UTF8.GetBytes(text, buffer)), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
