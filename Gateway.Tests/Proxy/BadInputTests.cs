using System.Net;
using System.Text;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>The upstream and gateway the tests of <see cref="BadInputTests"/> share: what the gateway refuses leaves no state.</summary>
public sealed class RefusingGateway : IAsyncLifetime
{
    public TestUpstream Upstream { get; private set; } = null!;

    public TestGateway Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync("a");
        // No active health probes: the upstream must see nothing at all of what the gateway refuses.
        Gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", Upstream, RoutesYaml.NoProbes)
            .Server("small", Upstream, RoutesYaml.NoProbes, "maxRequestBodyBytes: 2048")
            .Gateway("allowedOrigins: ['https://app.example.com']")
            .ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>Each bad input gets its documented answer, and the upstream never sees it.</summary>
public sealed class BadInputTests : IClassFixture<RefusingGateway>
{
    private readonly TestUpstream _upstream;
    private readonly TestGateway _gateway;

    public BadInputTests(RefusingGateway shared)
    {
        (_upstream, _gateway) = (shared.Upstream, shared.Gateway);

        // The tests of a class run one after the other: what the upstream saw is this test's alone.
        _upstream.Requests.Clear();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/mcp/nope")]
    [InlineData("/mcp/demo/extra")]
    public async Task UnknownServer_Is404WithJsonRpcError(string path)
    {
        using var response = await _gateway.Http.SendAsync(RawMcp.Post(path, RawMcp.Initialize), Ct);
        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.UnknownServer);
        Assert.Contains("Unknown MCP server", message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("OPTIONS")]
    public async Task MethodMcpDoesNotUse_OnAConfiguredServer_Is405WithAllow(string method)
    {
        using var response = await _gateway.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/mcp/demo"), Ct);

        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, JsonRpcErrorCodes.InvalidRequest);
        Assert.StartsWith(method + " is not a method", message, StringComparison.Ordinal);
        Assert.Equal(["POST", "GET", "DELETE"], response.Content.Headers.Allow);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task TheGatewaysOwnOrigin_IsAllowed_InProduction()
    {
        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("Origin", _gateway.BaseAddress.GetLeftPart(UriPartial.Authority));
        using var response = await _gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("X-Note", "café")]
    [InlineData("Mcp-Name", "ünïcode")]
    public async Task NonAsciiHeaderValue_Is400_NotForwarded_AndDoesNotCountAgainstTheDestination(string header, string value)
    {
        // HttpClient sends such values only when told which encoding to use; Kestrel accepts them.
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = _gateway.BaseAddress };
        for (var i = 0; i < 12; i++)
        {
            using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
            request.Headers.TryAddWithoutValidation(header, value);
            using var refused = await utf8.SendAsync(request, Ct);
            var message = await RawMcp.AssertErrorAsync(refused, HttpStatusCode.BadRequest, JsonRpcErrorCodes.InvalidHeader);
            Assert.Contains(header, message, StringComparison.Ordinal);
        }

        Assert.Empty(_upstream.Requests);
        using var response = await _gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.Initialize), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var services = await _gateway.Http.GetStringAsync("/api/v1/services/demo", Ct);
        Assert.DoesNotContain("unhealthy", services, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BareLineFeeds_AreRefused_AndNothingIsForwarded()
    {
        var body = RawMcp.Initialize;
        var status = await RawHttp.SendAsync(_gateway.BaseAddress,
            $"POST /mcp/demo HTTP/1.1\nHost: gateway\nContent-Type: application/json\nAccept: application/json, text/event-stream\nContent-Length: {body.Length}\n\n{body}");

        Assert.StartsWith("HTTP/1.1 400", status, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task EveryHeaderNamedInConnection_StaysWithThisHop()
    {
        var status = await PostInitializeAsync(
            "Connection: X-Secret-Hop, X-Third-Hop\r\nConnection: X-Other-Hop\r\nX-Secret-Hop: one\r\nX-Other-Hop: two\r\nX-Third-Hop: 3\r\nX-Kept: three\r\n");

        Assert.StartsWith("HTTP/1.1 200", status, StringComparison.Ordinal);
        var forwarded = Assert.Single(_upstream.Posts).Headers;
        Assert.False(forwarded.ContainsKey("X-Secret-Hop"));
        Assert.False(forwarded.ContainsKey("X-Other-Hop"));
        Assert.False(forwarded.ContainsKey("X-Third-Hop"));
        Assert.Equal("three", forwarded["X-Kept"]);
    }

    [Theory]
    [InlineData("Connection: keep-alive, X-Secret-Hop")]
    [InlineData("Connection: X-Secret-Hop, close")]
    [InlineData("Connection: X-Secret-Hop\r\nConnection: keep-alive")]
    [InlineData("Connection: upgrade\r\nConnection: X-Secret-Hop")]
    public async Task HeaderNamedBesideAnOptionKestrelKeepsAlone_StaysWithThisHop(string connection)
    {
        // Kestrel replaces a Connection header whose only option it knows is one of keep-alive, close, upgrade with
        // that option, and the names beside it are gone before the gateway could see them.
        var answer = await PostInitializeAsync($"{connection}\r\nX-Secret-Hop: one\r\nX-Kept: two\r\n");

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        var forwarded = Assert.Single(_upstream.Posts).Headers;
        Assert.False(forwarded.ContainsKey("X-Secret-Hop"));
        Assert.Equal("two", forwarded["X-Kept"]);
    }

    [Theory]
    [InlineData("keep-alive, TE")]
    [InlineData("Upgrade, HTTP2-Settings")]
    public async Task ConnectionHeader_NamingOnlyHeadersThatStayWithThisHopAnyway_IsServed(string connection)
    {
        var status = await PostInitializeAsync($"Connection: {connection}\r\nTE: trailers\r\n");

        Assert.StartsWith("HTTP/1.1 200", status, StringComparison.Ordinal);
        Assert.False(Assert.Single(_upstream.Posts).Headers.ContainsKey("TE"));
    }

    /// <summary>POSTs initialize to <c>demo</c> byte for byte as written, with <paramref name="headers"/> (CRLF-ended lines); the status line of the answer.</summary>
    private Task<string> PostInitializeAsync(string headers) => RawHttp.SendAsync(_gateway.BaseAddress,
        "POST /mcp/demo HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" +
        $"{headers}Content-Length: {RawMcp.Initialize.Length}\r\n\r\n{RawMcp.Initialize}");

    [Fact]
    public async Task BodyOverLimit_WithContentLength_Is413()
    {
        var body = RawMcp.CallTool("echo", arguments: $$"""{"message":"{{new string('x', 4096)}}"}""");
        using var response = await _gateway.Http.SendAsync(RawMcp.Post("/mcp/small", body), Ct);
        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, JsonRpcErrorCodes.PayloadTooLarge);
        Assert.Contains("2048", message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task BodyOverLimit_Chunked_Is413()
    {
        var request = RawMcp.Post("/mcp/small", "");
        request.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(RawMcp.CallTool("echo", arguments: $$"""{"message":"{{new string('x', 4096)}}"}"""))));
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await _gateway.Http.SendAsync(request, Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, JsonRpcErrorCodes.PayloadTooLarge);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task BodyUnderLimit_Chunked_IsForwardedWhole()
    {
        var request = RawMcp.Post("/mcp/demo", "");
        request.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(RawMcp.Initialize)));
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await _gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RawMcp.Initialize, Assert.Single(_upstream.Posts).Body);
    }

    [Theory]
    [InlineData("""[{"jsonrpc":"2.0","id":1,"method":"ping"}]""", JsonRpcErrorCodes.InvalidRequest)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"ping" """, JsonRpcErrorCodes.ParseError)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"ping"} trailing""", JsonRpcErrorCodes.ParseError)]
    [InlineData("", JsonRpcErrorCodes.ParseError)]
    [InlineData("""{"id":1,"method":"ping"}""", JsonRpcErrorCodes.InvalidRequest)]
    [InlineData("""{"jsonrpc":"1.0","id":1,"method":"ping"}""", JsonRpcErrorCodes.InvalidRequest)]
    [InlineData("""{"jsonrpc":"2.0","id":1}""", JsonRpcErrorCodes.InvalidRequest)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":42}""", JsonRpcErrorCodes.InvalidRequest)]
    [InlineData("\"just a string\"", JsonRpcErrorCodes.InvalidRequest)]
    public async Task NotOneJsonRpcMessage_Is400(string body, int code)
    {
        using var response = await _gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", body), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("Mcp-Method", "tools/list")]
    [InlineData("Mcp-Name", "other_tool")]
    [InlineData("Mcp-Name", "=?base64?b3RoZXI=?=")]
    [InlineData("Mcp-Name", "=?base64?not base64!?=")]
    public async Task HeaderDisagreeingWithBody_Is400HeaderMismatch(string header, string value)
    {
        using var request = RawMcp.Post("/mcp/demo", RawMcp.CallTool("echo", id: 7, arguments: """{"message":"x"}"""));
        request.Headers.Add(header, value);
        using var response = await _gateway.Http.SendAsync(request, Ct);
        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.BadRequest, JsonRpcErrorCodes.HeaderMismatch, id: "7");
        Assert.Contains(header, message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("echo")]
    [InlineData("=?base64?ZWNobw==?=")]
    public async Task HeadersAgreeingWithBody_AreForwarded(string name)
    {
        var sessionId = await RawMcp.InitializeAsync(_gateway.Http, "/mcp/demo");
        using var request = RawMcp.Post("/mcp/demo", RawMcp.CallTool("echo", arguments: """{"message":"x"}"""), sessionId);
        request.Headers.Add("Mcp-Method", "tools/call");
        request.Headers.Add("Mcp-Name", name);
        using var response = await _gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(name, _upstream.Posts[^1].Headers["Mcp-Name"]);
    }

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData("http://localhost:6274")]
    [InlineData("null")]
    public async Task OriginNotAllowed_Is403(string origin)
    {
        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("Origin", origin);
        using var response = await _gateway.Http.SendAsync(request, Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.Forbidden, JsonRpcErrorCodes.OriginNotAllowed);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task OriginOnAllowlist_IsForwarded()
    {
        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("Origin", "https://app.example.com");
        using var response = await _gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_upstream.Posts);
    }

    [Fact]
    public async Task ForgedSessionId_Is404()
    {
        using var response = await _gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("echo"), "forged-session-id"), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task TamperedSessionId_Is404()
    {
        var sessionId = await RawMcp.InitializeAsync(_gateway.Http, "/mcp/demo");
        var forwardedSoFar = _upstream.Requests.Count;
        var tampered = sessionId[..10] + (sessionId[10] == 'A' ? 'B' : 'A') + sessionId[11..];

        using var response = await _gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("echo"), tampered), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Equal(forwardedSoFar, _upstream.Requests.Count);
    }

    [Fact]
    public async Task UpstreamSessionIdSentDirectly_Is404()
    {
        await RawMcp.InitializeAsync(_gateway.Http, "/mcp/demo");
        var upstreamId = _upstream.Requests.Select(r => r.SessionId).OfType<string>().First();
        var forwardedSoFar = _upstream.Requests.Count;

        using var response = await _gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("echo"), upstreamId), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Equal(forwardedSoFar, _upstream.Requests.Count);
    }

    [Fact]
    public async Task SessionOfAnotherServer_Is404()
    {
        var sessionId = await RawMcp.InitializeAsync(_gateway.Http, "/mcp/demo");
        var forwardedSoFar = _upstream.Requests.Count;

        using var response = await _gateway.Http.SendAsync(RawMcp.Post("/mcp/small", RawMcp.CallTool("echo"), sessionId), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Equal(forwardedSoFar, _upstream.Requests.Count);
    }

    [Fact]
    public async Task CallerHeaders_AreNotForwarded_AndGatewaySetsItsOwn()
    {
        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("Authorization", "Bearer caller-token");
        request.Headers.Add("Cookie", "session=caller-cookie");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        request.Headers.Add("X-Forwarded-Host", "spoofed.example.com");
        request.Headers.Add("Forwarded", "for=203.0.113.9");
        request.Headers.Add("X-Hop-Secret", "for this hop only");
        request.Headers.Add("X-Kept", "end to end");
        request.Headers.Connection.Add("X-Hop-Secret");
        using var response = await _gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var forwarded = Assert.Single(_upstream.Posts).Headers;
        Assert.False(forwarded.ContainsKey("Authorization"));
        Assert.False(forwarded.ContainsKey("Cookie"));
        Assert.False(forwarded.ContainsKey("Forwarded"));
        Assert.False(forwarded.ContainsKey("X-Hop-Secret"));
        Assert.Equal("end to end", forwarded["X-Kept"]);
        Assert.Equal("127.0.0.1", forwarded["X-Forwarded-For"]);
        Assert.Equal(_gateway.BaseAddress.Authority, forwarded["X-Forwarded-Host"]);
        Assert.Equal("http", forwarded["X-Forwarded-Proto"]);
    }
}
