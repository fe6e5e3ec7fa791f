using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Clients;

/// <summary>The README's client setups, with the clients from npm: the TypeScript SDK, and mcp-remote (Claude Desktop's bridge).</summary>
public sealed class NpmClientTests : IAsyncLifetime
{
    private TestIdentityProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync();
        _upstream = await TestUpstream.StartAsync("a");
        _gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("open", _upstream, RoutesYaml.NoProbes, "auth: { required: false }")
            .Server("protected", _upstream, RoutesYaml.NoProbes, "auth: { audience: mcp-gateway }")
            .Gateway(_idp.GatewayAuth()).ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task TypeScriptSdk_WorksThroughTheGateway_WithAndWithoutAToken()
    {
        var token = await _idp.IssueUserTokenAsync("alice", "mcp-gateway");

        var anonymous = await TypeScriptClient.RunAsync(_gateway.McpEndpoint("open"), token: null);
        var authenticated = await TypeScriptClient.RunAsync(_gateway.McpEndpoint("protected"), token);
        var refused = await TypeScriptClient.RunAsync(_gateway.McpEndpoint("protected"), token: null);

        foreach (var (exitCode, output) in new[] { anonymous, authenticated })
        {
            Assert.True(exitCode == 0, output);
            var seen = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
            Assert.Contains("echo", seen.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("from typescript", seen.GetProperty("text").GetString());
            Assert.False(string.IsNullOrEmpty(seen.GetProperty("sessionId").GetString()));
        }

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(_upstream.Requests, r => r.Method == "DELETE");
    }

    [Fact]
    public async Task McpRemote_BridgesAStdioClient_ToTheGateway_WithABearerHeader()
    {
        var token = await _idp.IssueUserTokenAsync("alice", "mcp-gateway");
        var proxy = NpmFixture.Ensure("ts-client", Path.Combine("node_modules", "mcp-remote", "dist", "proxy.js"));
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = "node",
            Arguments = [proxy, _gateway.McpEndpoint("protected").ToString(), "--header", "Authorization:Bearer " + token, "--allow-http", "--transport", "http-only"],
            Name = "mcp-remote",
        });

        await using var client = await McpClient.CreateAsync(transport, cancellationToken: Ct);
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "from mcp-remote" }, cancellationToken: Ct);

        Assert.Equal("from mcp-remote", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.All(_upstream.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization")));
    }
}
