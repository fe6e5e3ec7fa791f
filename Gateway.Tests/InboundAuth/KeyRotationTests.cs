using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.InboundAuth;

/// <summary>
/// The IdP rotates its signing key while anyone may send tokens naming keys it never had: the gateway fetches the JWKS
/// at most once a minute, and the first request carrying the new key once that minute is over is accepted.
/// </summary>
/// <remarks>The minute passes on a fake clock, the one JwtBearer's options hold; everything else runs on the wire.</remarks>
public sealed class KeyRotationTests : IAsyncLifetime
{
    private static readonly RSA UnknownKey = RSA.Create(2048);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestIdentityProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Resource => _gateway.McpEndpoint("demo").ToString();

    public async ValueTask InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync();
        _upstream = await TestUpstream.StartAsync("a");
        _gateway = await TestGateway.StartAsync(
            new RoutesYaml().Server("demo", _upstream, RoutesYaml.NoProbes).Gateway(_idp.GatewayAuth()).ToString(),
            builder => builder.Services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o => o.TimeProvider = _time));

        using var warmUp = await SendInitializeAsync(await _idp.IssueUserTokenAsync("alice", Resource));
        Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
        Assert.Equal(1, _idp.JwksRequests);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task RotatedKey_UnderAFloodOfUnknownKids_IsAcceptedOnceTheMinuteIsOver_WithOneJwksFetchPerMinute()
    {
        _idp.RotateSigningKey();
        var rotated = await _idp.IssueUserTokenAsync("alice", Resource);

        await FloodWithUnknownKidsAsync();
        using (var withinTheMinute = await SendInitializeAsync(rotated))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, withinTheMinute.StatusCode);
        }

        Assert.Equal(1, _idp.JwksRequests);

        _time.Advance(TimeSpan.FromMinutes(1));
        await FloodWithUnknownKidsAsync();
        using var afterIt = await SendInitializeAsync(rotated);

        Assert.Equal(HttpStatusCode.OK, afterIt.StatusCode);
        Assert.Equal(2, _idp.JwksRequests);
    }

    [Fact]
    public async Task RequestsCarryingTheRotatedKey_TheFirstOnceARefreshIsDue_ShareOneFetch_AndAreAllAccepted()
    {
        _idp.RotateSigningKey();
        var rotated = await _idp.IssueUserTokenAsync("alice", Resource);
        _time.Advance(TimeSpan.FromMinutes(1));

        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await SendInitializeAsync(rotated);
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(2, _idp.JwksRequests);
    }

    [Fact]
    public async Task IdpDown_DuringARefresh_KeepsTheKeysHeld_AndAnUnknownKidIs401WithTheChallenge()
    {
        _idp.Unavailable = true;
        _time.Advance(TimeSpan.FromMinutes(1));

        await FloodWithUnknownKidsAsync();
        using var unknownKid = await SendInitializeAsync(ForgeUnknownKid());
        using var valid = await SendInitializeAsync(_idp.Forge("alice", Resource));

        await RawMcp.AssertErrorAsync(unknownKid, HttpStatusCode.Unauthorized, JsonRpcErrorCodes.Unauthorized);
        var challenge = Assert.Single(unknownKid.Headers.WwwAuthenticate).Parameter!;
        Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Contains("resource_metadata=", challenge, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Single(_gateway.Logs.Entries, e => e.Message.StartsWith("Could not fetch the issuer's metadata", StringComparison.Ordinal));
    }

    /// <summary>Tokens signed by a key the IdP never had, each naming it by a kid of its own, four at a time.</summary>
    private Task FloodWithUnknownKidsAsync() =>
        Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (_, _) =>
        {
            using var response = await SendInitializeAsync(ForgeUnknownKid());
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        });

    private string ForgeUnknownKid() => _idp.Forge("mallory", Resource, d => d.SigningCredentials = new SigningCredentials(
        new RsaSecurityKey(UnknownKey) { KeyId = "kid-" + Guid.NewGuid().ToString("N") }, SecurityAlgorithms.RsaSha256));

    private Task<HttpResponseMessage> SendInitializeAsync(string token)
    {
        var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return _gateway.Http.SendAsync(request, Ct);
    }
}
