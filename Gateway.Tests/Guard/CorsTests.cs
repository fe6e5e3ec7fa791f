using System.Net;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;

namespace Gateway.Tests.Guard;

/// <summary>
/// CORS on the wire: the gateway answers preflights for the origins it allows (before the server lookup, the token
/// and the limits), and lets those origins read the headers an MCP client needs, on its own error answers too.
/// </summary>
public sealed class CorsTests(CorsTests.Gateway fixture) : IClassFixture<CorsTests.Gateway>
{
    private const string AllowedOrigin = "https://app.example.com";
    private const string ForeignOrigin = "https://evil.example.com";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Preflight_FromAnAllowedOrigin_Is204_WithMcpMethodsAndHeaders_AndNotForwarded()
    {
        using var response = await SendPreflightAsync(fixture.Http, "/mcp/demo", AllowedOrigin,
            "content-type,mcp-protocol-version,mcp-session-id,mcp-param-foo,x-other");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(AllowedOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal(["POST", "GET", "DELETE"], HeaderList(response, "Access-Control-Allow-Methods"));
        // The Mcp-Param-* header asked for is added; x-other, asked for too, is not.
        Assert.Equal(
            ["Authorization", "Content-Type", "Mcp-Session-Id", "MCP-Protocol-Version", "Last-Event-ID", "Mcp-Method", "Mcp-Name", "mcp-param-foo"],
            HeaderList(response, "Access-Control-Allow-Headers"));
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
        Assert.Contains("Origin", response.Headers.Vary);
        Assert.DoesNotContain(fixture.Upstream.Requests, r => r.Method == "OPTIONS");
    }

    [Fact]
    public async Task Preflight_FromAForeignOrigin_GetsNoAllowHeaders_AndIsNotForwarded()
    {
        using var response = await SendPreflightAsync(fixture.Http, "/mcp/demo", ForeignOrigin, "content-type");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(fixture.Upstream.Requests, r => r.Method == "OPTIONS");
    }

    [Fact]
    public async Task Preflight_ForAnUnknownServer_IsAnswered_AndItsBrowserCanRead404()
    {
        using var preflight = await SendPreflightAsync(fixture.Http, "/mcp/nope", AllowedOrigin, "content-type");
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(AllowedOrigin, Header(preflight, "Access-Control-Allow-Origin"));

        using var response = await PostFromAsync("/mcp/nope", AllowedOrigin);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.UnknownServer);
        Assert.Equal(AllowedOrigin, Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Request_FromAnAllowedOrigin_ExposesTheSessionId()
    {
        using var response = await PostFromAsync("/mcp/demo", AllowedOrigin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(response.Headers.GetValues("Mcp-Session-Id"));
        Assert.Equal(AllowedOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal(["Mcp-Session-Id", "WWW-Authenticate", "Retry-After", "Allow"], HeaderList(response, "Access-Control-Expose-Headers"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task Preflights_DoNotCountAgainstTheRateLimit_AndItsBrowserCanRead429()
    {
        for (var i = 0; i < 3; i++)
        {
            using var preflight = await SendPreflightAsync(fixture.Http, "/mcp/limited", AllowedOrigin, "content-type");
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        }

        using var first = await PostFromAsync("/mcp/limited", AllowedOrigin);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var second = await PostFromAsync("/mcp/limited", AllowedOrigin);
        await RawMcp.AssertErrorAsync(second, HttpStatusCode.TooManyRequests, JsonRpcErrorCodes.RateLimited, id: "1");
        Assert.Equal(AllowedOrigin, Header(second, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Request_FromAForeignOrigin_Is403_WithoutCorsHeaders()
    {
        using var response = await PostFromAsync("/mcp/demo", ForeignOrigin);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Forbidden, JsonRpcErrorCodes.OriginNotAllowed);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Challenge_ToAnAllowedOrigin_ExposesWwwAuthenticate_AndTheMetadataItNamesIsReadable()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", fixture.Upstream, RoutesYaml.NoProbes)
            .Gateway([$"allowedOrigins: ['{AllowedOrigin}']", .. idp.GatewayAuth()]).ToString());
        // Preflights carry no token: answered before authentication.
        using var preflight = await SendPreflightAsync(gateway.Http, "/mcp/demo", AllowedOrigin, "authorization,content-type");
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(AllowedOrigin, Header(preflight, "Access-Control-Allow-Origin"));

        using var response = await PostFromAsync("/mcp/demo", AllowedOrigin, gateway.Http);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Unauthorized, JsonRpcErrorCodes.Unauthorized);
        Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal(AllowedOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("WWW-Authenticate", HeaderList(response, "Access-Control-Expose-Headers"));

        using var metadataRequest = new HttpRequestMessage(HttpMethod.Get, "/.well-known/oauth-protected-resource/mcp/demo");
        metadataRequest.Headers.Add("Origin", AllowedOrigin);
        using var metadata = await gateway.Http.SendAsync(metadataRequest, Ct);
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Equal(AllowedOrigin, Header(metadata, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task AllowedOrigins_EditedInRoutesYaml_ApplyToTheNextPreflight()
    {
        const string NewOrigin = "https://new.example.com";
        var keys = TempDirectory.Create();
        await using var gateway = await TestGateway.StartAsync(Routes(keys, AllowedOrigin));
        using (var before = await SendPreflightAsync(gateway.Http, "/mcp/demo", NewOrigin, "content-type"))
        {
            Assert.False(before.Headers.Contains("Access-Control-Allow-Origin"));
        }

        await File.WriteAllTextAsync(gateway.RoutesPath, Routes(keys, NewOrigin), Ct);

        await Eventually.TrueAsync(async () =>
        {
            using var preflight = await SendPreflightAsync(gateway.Http, "/mcp/demo", NewOrigin, "content-type");
            return preflight.Headers.Contains("Access-Control-Allow-Origin");
        });
        using var old = await SendPreflightAsync(gateway.Http, "/mcp/demo", AllowedOrigin, "content-type");
        Assert.False(old.Headers.Contains("Access-Control-Allow-Origin"));

        string Routes(string keysDirectory, string origin) =>
            new RoutesYaml(keysDirectory).Server("demo", fixture.Upstream, RoutesYaml.NoProbes).Gateway($"allowedOrigins: ['{origin}']").ToString();
    }

    private async Task<HttpResponseMessage> PostFromAsync(string path, string origin, HttpClient? http = null)
    {
        using var request = RawMcp.Post(path, RawMcp.Initialize);
        request.Headers.Add("Origin", origin);
        return await (http ?? fixture.Http).SendAsync(request, Ct);
    }

    private static async Task<HttpResponseMessage> SendPreflightAsync(HttpClient http, string path, string origin, string requestHeaders)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", requestHeaders);
        return await http.SendAsync(request, Ct);
    }

    private static string Header(HttpResponseMessage response, string name) => string.Join(',', response.Headers.GetValues(name));

    private static string[] HeaderList(HttpResponseMessage response, string name) =>
        Header(response, name).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>One gateway allowing <see cref="AllowedOrigin"/>, before one upstream (<c>limited</c> allows one request a minute), for the tests that need no gateway of their own.</summary>
    public sealed class Gateway : IAsyncLifetime
    {
        private TestGateway _gateway = null!;

        public TestUpstream Upstream { get; private set; } = null!;

        public HttpClient Http => _gateway.Http;

        public async ValueTask InitializeAsync()
        {
            Upstream = await TestUpstream.StartAsync("a");
            _gateway = await TestGateway.StartAsync(new RoutesYaml()
                .Server("demo", Upstream, RoutesYaml.NoProbes)
                .Server("limited", Upstream, RoutesYaml.NoProbes, "rateLimit: { requestsPerMinute: 1, burst: 1 }")
                .Gateway($"allowedOrigins: ['{AllowedOrigin}']").ToString());
        }

        public async ValueTask DisposeAsync()
        {
            await _gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
