using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Sessions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Sessions;

public sealed class SessionIdSealerTests
{
    private static readonly McpCaller Alice = McpCaller.For("issuer", "alice");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-25T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly IDataProtectionProvider _keys = DataProtectionProvider.Create(new DirectoryInfo(Infrastructure.TempDirectory.Create()));

    private SessionIdSealer Sealer(IDataProtectionProvider? keys = null) =>
        new(keys ?? _keys, _time, Options.Create(new SessionOptions { Lifetime = TimeSpan.FromHours(1) }));

    [Fact]
    public void Unseal_OfSealed_RestoresEverything()
    {
        var sealedId = Sealer().Seal("demo", "http://10.0.0.1/mcp", "upstream-123", Alice);

        Assert.Equal(UnsealOutcome.Valid, Sealer().TryUnseal(sealedId, "demo", Alice, out var session));
        Assert.Equal(new PinnedSession("demo", "http://10.0.0.1/mcp", "upstream-123", _time.GetUtcNow()), session);
        Assert.DoesNotContain("upstream-123", sealedId, StringComparison.Ordinal);
        Assert.All(sealedId, c => Assert.InRange(c, '!', '~'));
    }

    [Fact]
    public void Unseal_ForAnotherCaller_IsRefused()
    {
        var sealedId = Sealer().Seal("demo", "http://10.0.0.1/mcp", "upstream-123", Alice);
        Assert.Equal(UnsealOutcome.OtherCaller, Sealer().TryUnseal(sealedId, "demo", McpCaller.For("issuer", "mallory"), out var session));
        Assert.Null(session);
    }

    [Fact]
    public void Unseal_ForTheSameUserInAnotherClient_IsRefused()
    {
        var sealedId = Sealer().Seal("demo", "http://10.0.0.1/mcp", "upstream-123", McpCaller.For("issuer", "alice", "app-one"));
        Assert.Equal(UnsealOutcome.OtherCaller, Sealer().TryUnseal(sealedId, "demo", McpCaller.For("issuer", "alice", "app-two"), out _));
        Assert.Equal(UnsealOutcome.Valid, Sealer().TryUnseal(sealedId, "demo", McpCaller.For("issuer", "alice", "app-one"), out _));
    }

    [Fact]
    public void Unseal_OfAnIdSealedBeforeSessionsKnewTheClient_HonoursItsUser()
    {
        // Format 1, as the previous release sealed it: the owner is SHA-256 of "issuer|subject".
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((byte)1);
            writer.Write(_time.GetUtcNow().ToUnixTimeMilliseconds());
            writer.Write("demo");
            writer.Write("http://10.0.0.1/mcp");
            writer.Write("upstream-123");
            writer.Write(System.Security.Cryptography.SHA256.HashData("issuer|alice"u8));
        }

        var sealedId = System.Buffers.Text.Base64Url.EncodeToString(_keys.CreateProtector("Gateway.McpSession.v1").Protect(payload.ToArray()));

        Assert.Equal(UnsealOutcome.Valid, Sealer().TryUnseal(sealedId, "demo", McpCaller.For("issuer", "alice", "any-app"), out var session));
        Assert.Equal("upstream-123", session!.UpstreamSessionId);
        Assert.Equal(UnsealOutcome.OtherCaller, Sealer().TryUnseal(sealedId, "demo", McpCaller.For("issuer", "mallory", "any-app"), out _));
    }

    [Fact]
    public void Unseal_ForAnotherServer_IsRefused()
    {
        var sealedId = Sealer().Seal("demo", "http://10.0.0.1/mcp", "upstream-123", McpCaller.Anonymous);
        Assert.Equal(UnsealOutcome.OtherServer, Sealer().TryUnseal(sealedId, "other", McpCaller.Anonymous, out _));
    }

    [Fact]
    public void Unseal_AfterLifetime_IsExpired()
    {
        var sealedId = Sealer().Seal("demo", "http://10.0.0.1/mcp", "upstream-123", McpCaller.Anonymous);
        _time.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal(UnsealOutcome.Expired, Sealer().TryUnseal(sealedId, "demo", McpCaller.Anonymous, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64 !")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Unseal_OfGarbage_IsForged(string sealedId) =>
        Assert.Equal(UnsealOutcome.Forged, Sealer().TryUnseal(sealedId, "demo", McpCaller.Anonymous, out _));

    [Fact]
    public void Unseal_WithAnotherKeyRing_IsForged()
    {
        var sealedId = Sealer().Seal("demo", "http://10.0.0.1/mcp", "upstream-123", McpCaller.Anonymous);
        var otherKeys = DataProtectionProvider.Create(new DirectoryInfo(Infrastructure.TempDirectory.Create()));
        Assert.Equal(UnsealOutcome.Forged, Sealer(otherKeys).TryUnseal(sealedId, "demo", McpCaller.Anonymous, out _));
    }
}
