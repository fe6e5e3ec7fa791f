using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Hybrid;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>
/// Writes cache entries encrypted and signed with the Data Protection key ring, so a token kept in Redis is not
/// readable (or forgeable) by whoever can read Redis; replicas sharing the key ring read each other's entries.
/// </summary>
internal sealed class ProtectedTokenSerializer(IDataProtectionProvider dataProtection) : IHybridCacheSerializer<UpstreamToken>
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Gateway.UpstreamToken.v1");

    public UpstreamToken Deserialize(ReadOnlySequence<byte> source)
    {
        var clear = _protector.Unprotect(source.ToArray());
        var reader = new Utf8JsonReader(clear);
        string? accessToken = null, error = null;
        long expiresAt = 0;
        var failure = UpstreamTokenFailure.None;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "t": accessToken = reader.GetString(); break;
                case "e": expiresAt = reader.GetInt64(); break;
                case "f": failure = (UpstreamTokenFailure)reader.GetInt32(); break;
                case "m": error = reader.GetString(); break;
            }
        }

        return new UpstreamToken(accessToken, DateTimeOffset.FromUnixTimeMilliseconds(expiresAt), failure, error);
    }

    public void Serialize(UpstreamToken value, IBufferWriter<byte> target)
    {
        ArgumentNullException.ThrowIfNull(value);
        var clear = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(clear))
        {
            writer.WriteStartObject();
            writer.WriteString("t", value.AccessToken);
            writer.WriteNumber("e", value.ExpiresAt == DateTimeOffset.MinValue ? 0 : value.ExpiresAt.ToUnixTimeMilliseconds());
            writer.WriteNumber("f", (int)value.Failure);
            writer.WriteString("m", value.Error);
            writer.WriteEndObject();
        }

        ArgumentNullException.ThrowIfNull(target);
        target.Write(_protector.Protect(clear.WrittenSpan.ToArray()));
    }
}
