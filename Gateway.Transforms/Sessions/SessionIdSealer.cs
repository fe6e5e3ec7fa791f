using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gateway.Transforms.InboundAuth;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Gateway.Transforms.Sessions;

/// <summary>
/// Seals an upstream's session id, with the destination that owns it and the caller it belongs to, into the id the
/// client sees; and opens it again on later requests.
/// </summary>
/// <remarks>
/// The seal is ASP.NET Core Data Protection (authenticated encryption), so the session's home travels with the
/// client and no replica needs a session store: any replica sharing the key ring can route any session. The caller
/// is kept as its <see cref="McpCaller.SessionOwnerHash"/>, which is enough to compare and keeps the id short.
/// </remarks>
public sealed class SessionIdSealer
{
    // 2: the owner is issuer, subject and client. 1 (before 2): issuer and subject; still honoured so that sessions
    // survive an upgrade and a rolling deploy, and older replicas' ids work here, for at most one session lifetime.
    private const byte FormatVersion = 2;
    private const byte UserOnlyFormatVersion = 1;
    private readonly IDataProtector _protector;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _lifetime;

    public SessionIdSealer(IDataProtectionProvider dataProtection, TimeProvider timeProvider, IOptions<SessionOptions> options)
    {
        ArgumentNullException.ThrowIfNull(dataProtection);
        ArgumentNullException.ThrowIfNull(options);
        _protector = dataProtection.CreateProtector("Gateway.McpSession.v1");
        _timeProvider = timeProvider;
        _lifetime = options.Value.Lifetime;
    }

    /// <summary>Seals a new session; the result is URL-safe Base64, valid as an <c>Mcp-Session-Id</c>.</summary>
    public string Seal(string server, string destination, string upstreamSessionId, McpCaller caller)
    {
        using var buffer = new MemoryStream(128 + upstreamSessionId.Length);
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(FormatVersion);
            writer.Write(_timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            writer.Write(server);
            writer.Write(destination);
            writer.Write(upstreamSessionId);
            writer.Write(caller.SessionOwnerHash.Span);
        }

        return Base64Url.EncodeToString(_protector.Protect(buffer.ToArray()));
    }

    /// <summary>Opens a sealed id and checks that it belongs to <paramref name="server"/> and <paramref name="caller"/>.</summary>
    public UnsealOutcome TryUnseal(string sealedId, string server, McpCaller caller, out PinnedSession? session)
    {
        session = null;
        if (!TryOpen(sealedId, out var payload))
        {
            return UnsealOutcome.Forged;
        }

        using var reader = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
        var version = reader.ReadByte();
        if (version is not (FormatVersion or UserOnlyFormatVersion))
        {
            return UnsealOutcome.Forged;
        }

        var issuedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
        var sealedServer = reader.ReadString();
        var destination = reader.ReadString();
        var upstreamSessionId = reader.ReadString();
        var callerHash = reader.ReadBytes(SHA256.HashSizeInBytes);

        if (!string.Equals(sealedServer, server, StringComparison.Ordinal))
        {
            return UnsealOutcome.OtherServer;
        }

        var owner = version == FormatVersion ? caller.SessionOwnerHash : caller.UserHash;
        if (!CryptographicOperations.FixedTimeEquals(callerHash, owner.Span))
        {
            return UnsealOutcome.OtherCaller;
        }

        if (_timeProvider.GetUtcNow() - issuedAt > _lifetime)
        {
            return UnsealOutcome.Expired;
        }

        session = new PinnedSession(sealedServer, destination, upstreamSessionId, issuedAt);
        return UnsealOutcome.Valid;
    }

    private bool TryOpen(string sealedId, out byte[] payload)
    {
        payload = [];
        if (sealedId.Length is 0 or > 4096 || !Base64Url.IsValid(sealedId))
        {
            return false;
        }

        try
        {
            payload = _protector.Unprotect(Base64Url.DecodeFromChars(sealedId));
            return payload.Length > 0;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
