using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using Microsoft.IdentityModel.Tokens;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;

namespace Gateway.Tests.InboundAuth;

/// <summary>The IdP, upstream and gateway the tests of <see cref="InboundAuthenticationTests"/> share; none changes them.</summary>
public sealed class AuthenticatingGateway : IAsyncLifetime
{
    public TestIdentityProvider Idp { get; private set; } = null!;

    public TestUpstream Upstream { get; private set; } = null!;

    public TestGateway Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Idp = await TestIdentityProvider.StartAsync();
        Upstream = await TestUpstream.StartAsync("a");
        Gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", Upstream, RoutesYaml.NoProbes, "auth:", "  scopes: [tools:call]")
            .Server("other", Upstream, RoutesYaml.NoProbes)
            .Server("open", Upstream, RoutesYaml.NoProbes, "auth:", "  required: false")
            .Gateway(Idp.GatewayAuth()).ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        await Idp.DisposeAsync();
    }
}

/// <summary>Who may call: tokens from the configured issuer, for this server, with its scopes; RFC 9728 discovery.</summary>
public sealed class InboundAuthenticationTests : IClassFixture<AuthenticatingGateway>
{
    // A key the IdP does not publish; each forged token names it by a new kid.
    private static readonly RSA UnknownKey = RSA.Create(2048);

    private readonly TestIdentityProvider _idp;
    private readonly TestUpstream _upstream;
    private readonly TestGateway _gateway;

    public InboundAuthenticationTests(AuthenticatingGateway shared)
    {
        (_idp, _upstream, _gateway) = (shared.Idp, shared.Upstream, shared.Gateway);

        // The tests of a class run one after the other: what the upstream saw is this test's alone.
        _upstream.Requests.Clear();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Resource => _gateway.McpEndpoint("demo").ToString();

    [Fact]
    public async Task Metadata_DescribesTheServer_AsRfc9728Says()
    {
        using var response = await _gateway.Http.GetAsync("/.well-known/oauth-protected-resource/mcp/demo", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var metadata = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(Resource, metadata.GetProperty("resource").GetString());
        Assert.Equal([_idp.Issuer.ToString()], metadata.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["tools:call"], metadata.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["header"], metadata.GetProperty("bearer_methods_supported").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Metadata_OfAnUnknownServer_Is404()
    {
        using var response = await _gateway.Http.GetAsync("/.well-known/oauth-protected-resource/mcp/nope", Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.UnknownServer);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task NoToken_Is401_WithTheMetadataAndScopeToDiscover_AndNothingForwarded(string method)
    {
        using var request = method == "POST" ? RawMcp.Post("/mcp/demo", RawMcp.Initialize) : new HttpRequestMessage(new HttpMethod(method), "/mcp/demo");
        if (method != "POST")
        {
            request.Headers.Add("Mcp-Session-Id", "whatever");
        }

        using var response = await _gateway.Http.SendAsync(request, Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Unauthorized, JsonRpcErrorCodes.Unauthorized);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains($"resource_metadata=\"{_gateway.BaseAddress}.well-known/oauth-protected-resource/mcp/demo\"", challenge.Parameter, StringComparison.Ordinal);
        Assert.Contains("scope=\"tools:call\"", challenge.Parameter, StringComparison.Ordinal);
        Assert.DoesNotContain("error=", challenge.Parameter, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ForeignOrigin_WithoutAToken_Is403_NotAChallenge()
    {
        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("Origin", "https://evil.example.com");
        using var response = await _gateway.Http.SendAsync(request, Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Forbidden, JsonRpcErrorCodes.OriginNotAllowed);
        Assert.Empty(response.Headers.WwwAuthenticate);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task TokenWithoutTheScope_Is403_InsufficientScope()
    {
        var token = await _idp.IssueUserTokenAsync("alice", Resource, "tools:read");

        using var response = await SendInitializeAsync("demo", token);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Forbidden, JsonRpcErrorCodes.InsufficientScope);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Contains("error=\"insufficient_scope\"", challenge.Parameter, StringComparison.Ordinal);
        Assert.Contains("scope=\"tools:call\"", challenge.Parameter, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ValidToken_ForThisServer_ReachesTheUpstream_WithoutTheCallersToken()
    {
        var token = await _idp.IssueUserTokenAsync("alice", Resource, "tools:call");

        await using var client = await _gateway.ConnectAsync("demo", accessToken: token);
        var tools = await client.ListToolsAsync(cancellationToken: Ct);

        Assert.NotEmpty(tools);
        Assert.NotEmpty(_upstream.Requests);
        Assert.All(_upstream.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization")));
    }

    [Fact]
    public async Task SdkClient_DiscoversAuthorizationFromThe401_AndCompletesTheOAuthFlow_AgainstTheIdP()
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        Uri? authorizationUri = null;
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = _gateway.McpEndpoint("demo"),
            TransportMode = HttpTransportMode.StreamableHttp,
            OAuth = new ClientOAuthOptions
            {
                ClientId = TestIdentityProvider.PublicClientId,
                RedirectUri = new Uri("http://127.0.0.1:1/callback"),

                // The user's browser: the IdP signs the user in and redirects to the client with the code.
                AuthorizationCallbackHandler = async (context, ct) =>
                {
                    authorizationUri = context.AuthorizationUri;
                    using var response = await browser.GetAsync(context.AuthorizationUri, ct);
                    Assert.Equal(HttpStatusCode.Found, response.StatusCode);
                    var query = System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.Query);
                    return new AuthorizationResult { Code = query["code"], State = query["state"], Iss = query["iss"] };
                },
            },
        });

        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = RawMcp.ProtocolVersion }, cancellationToken: Ct);
        var tools = await client.ListToolsAsync(cancellationToken: Ct);

        Assert.NotEmpty(tools);
        Assert.NotNull(authorizationUri);
        Assert.StartsWith(_idp.Issuer + "/protocol/openid-connect/auth", authorizationUri.ToString(), StringComparison.Ordinal);
        var asked = System.Web.HttpUtility.ParseQueryString(authorizationUri.Query);
        Assert.Equal(Resource, asked["resource"]);
        Assert.Contains("tools:call", asked["scope"]!.Split(' '));
        Assert.Equal("S256", asked["code_challenge_method"]);
        Assert.NotEmpty(_upstream.Requests);
    }

    [Fact]
    public async Task ConfiguredAudience_IsAccepted_InsteadOfTheResourceUrl()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", _upstream, "auth:", "  audience: demo-api")
            .Gateway(_idp.GatewayAuth()).ToString());
        var token = await _idp.IssueUserTokenAsync("alice", "demo-api");
        var forResource = await _idp.IssueUserTokenAsync("alice", gateway.McpEndpoint("demo").ToString());

        await using var client = await gateway.ConnectAsync("demo", accessToken: token);
        using var refused = await SendInitializeAsync("demo", forResource, gateway.Http);

        Assert.NotEmpty(await client.ListToolsAsync(cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task RequiredRole_ForbidsTokensWithoutIt_AndAdmitsTokensWithOne()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("admin", _upstream, RoutesYaml.NoProbes, "auth:", "  roles: [mcp-admin, owner]")
            .Gateway(_idp.GatewayAuth()).ToString());
        var audience = gateway.McpEndpoint("admin").ToString();
        var withoutRole = _idp.Forge("bob", audience, d => d.Claims["roles"] = new List<string> { "mcp-user" });
        var withRole = _idp.Forge("alice", audience, d => d.Claims["roles"] = new List<string> { "mcp-user", "mcp-admin" });

        using var forbidden = await SendInitializeAsync("admin", withoutRole, gateway.Http);
        using var allowed = await SendInitializeAsync("admin", withRole, gateway.Http);

        var message = await RawMcp.AssertErrorAsync(forbidden, HttpStatusCode.Forbidden, JsonRpcErrorCodes.InsufficientScope);
        Assert.Contains("mcp-admin", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task TokenForAnotherServer_Is401()
    {
        var token = await _idp.IssueUserTokenAsync("alice", _gateway.McpEndpoint("other").ToString(), "tools:call");

        using var response = await SendInitializeAsync("demo", token);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Unauthorized, JsonRpcErrorCodes.Unauthorized);
        Assert.Contains("error=\"invalid_token\"", Assert.Single(response.Headers.WwwAuthenticate).Parameter, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ServerThatDoesNotRequireAToken_ServesAnonymousCallers()
    {
        await using var client = await _gateway.ConnectAsync("open");

        Assert.NotEmpty(await client.ListToolsAsync(cancellationToken: Ct));
    }

    public static TheoryData<string> BadTokens => ["alg-none", "hs256-with-public-key", "wrong-issuer", "audience-account", "no-audience", "expired", "not-yet-valid", "unknown-kid"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadToken_Is401_InvalidToken_AndNothingForwarded(string kind)
    {
        var token = Forge(kind);

        using var response = await SendInitializeAsync("demo", token);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Unauthorized, JsonRpcErrorCodes.Unauthorized);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate).Parameter!;
        Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Contains("resource_metadata=", challenge, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
        Assert.DoesNotContain(_gateway.Logs.Entries, e => e.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForgedTokenWithTheRealKey_IsAccepted_SoTheBadTokenCasesFailForTheirOwnReason()
    {
        using var response = await SendInitializeAsync("demo", Forge("good"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ThousandUnknownKidTokens_CauseAtMostOneJwksRefetch()
    {
        using (var warmUp = await SendInitializeAsync("demo", Forge("good")))
        {
            Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
        }

        var before = _idp.JwksRequests;
        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (i, ct) =>
        {
            using var response = await SendInitializeAsync("demo", Forge("unknown-kid"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        });

        Assert.InRange(_idp.JwksRequests - before, 0, 1);
    }

    private string Forge(string kind)
    {
        var audience = Resource;
        return kind switch
        {
            "good" => _idp.Forge("alice", audience),
            "alg-none" => Unsigned(_idp.Forge("alice", audience)),
            "hs256-with-public-key" => _idp.Forge("alice", audience, d => d.SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.ASCII.GetBytes(_idp.SigningKey.Rsa.ExportSubjectPublicKeyInfoPem())) { KeyId = _idp.SigningKey.KeyId },
                SecurityAlgorithms.HmacSha256)),
            "wrong-issuer" => _idp.Forge("alice", audience, d => d.Issuer = "http://127.0.0.1:1/realms/evil"),
            "audience-account" => _idp.Forge("alice", "account"),
            "no-audience" => _idp.Forge("alice", null),
            "expired" => _idp.Forge("alice", audience, d => (d.IssuedAt, d.NotBefore, d.Expires) = (DateTime.UtcNow.AddMinutes(-30), DateTime.UtcNow.AddMinutes(-30), DateTime.UtcNow.AddMinutes(-5))),
            "not-yet-valid" => _idp.Forge("alice", audience, d => (d.NotBefore, d.Expires) = (DateTime.UtcNow.AddMinutes(5), DateTime.UtcNow.AddMinutes(30))),
            "unknown-kid" => _idp.Forge("alice", audience, d => d.SigningCredentials = new SigningCredentials(
                new RsaSecurityKey(UnknownKey) { KeyId = "kid-" + Guid.NewGuid().ToString("N") }, SecurityAlgorithms.RsaSha256)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>The same claims under <c>{"alg":"none"}</c> and without a signature.</summary>
    private static string Unsigned(string token)
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        return header + "." + token.Split('.')[1] + ".";
    }

    private Task<HttpResponseMessage> SendInitializeAsync(string server, string token, HttpClient? http = null)
    {
        var request = RawMcp.Post("/mcp/" + server, RawMcp.Initialize);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (http ?? _gateway.Http).SendAsync(request, Ct);
    }
}
