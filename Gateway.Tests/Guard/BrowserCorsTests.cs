using Gateway.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace Gateway.Tests.Guard;

/// <summary>
/// CORS in a real browser: a page on an allowed origin speaks MCP to the gateway with fetch() (preflights, the
/// exposed session id), and a page on any other origin is stopped by the browser before the upstream sees anything.
/// </summary>
public sealed class BrowserCorsTests(BrowserCorsTests.Browser setup) : IClassFixture<BrowserCorsTests.Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PageOnAnAllowedOrigin_ConnectsThroughTheGateway_AndListsTheUpstreamsTools()
    {
        var (status, tools, console) = await RunClientAsync(setup.AllowedPage, "demo");

        Assert.True(status == "listed", $"{status}\n{string.Join('\n', console)}");
        await using var direct = await McpClient.CreateAsync(new HttpClientTransport(new() { Endpoint = setup.DemoUpstream.Endpoint }), cancellationToken: Ct);
        var upstreamTools = await direct.ListToolsAsync(cancellationToken: Ct);
        Assert.Equal(upstreamTools.Select(t => t.Name).Order(StringComparer.Ordinal), tools.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PageOnAForeignOrigin_CannotFetch_AndTheUpstreamSeesNothing()
    {
        var (status, tools, console) = await RunClientAsync(setup.ForeignPage, "quiet");

        Assert.Equal("failed: Failed to fetch", status);
        Assert.Empty(tools);
        Assert.Contains(console, line => line.Contains("blocked by CORS policy", StringComparison.Ordinal));
        Assert.Empty(setup.QuietUpstream.Requests);
    }

    /// <summary>Opens the client page from <paramref name="page"/>'s origin on <paramref name="server"/>'s endpoint and waits for its outcome.</summary>
    private async Task<(string Status, IReadOnlyList<string> Tools, IReadOnlyList<string> Console)> RunClientAsync(StaticPage page, string server)
    {
        await using var context = await setup.Chromium.Browser.NewContextAsync();
        var tab = await context.NewPageAsync();
        var console = new List<string>();
        tab.Console += (_, message) => console.Add(message.Text);
        await tab.GotoAsync($"{page.Origin}/?endpoint={Uri.EscapeDataString(setup.Gateway.McpEndpoint(server).ToString())}");
        await tab.WaitForFunctionAsync("() => document.getElementById('status').textContent !== 'connecting'");
        return ((await tab.TextContentAsync("#status"))!, await tab.Locator("#tools li").AllTextContentsAsync(), console);
    }

    /// <summary>Chromium, two upstreams behind one gateway, and the client page on an allowed and on a foreign origin.</summary>
    public sealed class Browser : IAsyncLifetime
    {
        private static readonly string ClientPage = Path.Combine(RepositoryPaths.Root, "Gateway.Tests", "Fixtures", "browser-client", "index.html");

        public TestUpstream DemoUpstream { get; private set; } = null!;

        /// <summary>The upstream only the foreign page is pointed at: it must see nothing.</summary>
        public TestUpstream QuietUpstream { get; private set; } = null!;

        public StaticPage AllowedPage { get; private set; } = null!;

        public StaticPage ForeignPage { get; private set; } = null!;

        public TestGateway Gateway { get; private set; } = null!;

        public HeadlessChromium Chromium { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            DemoUpstream = await TestUpstream.StartAsync("a");
            QuietUpstream = await TestUpstream.StartAsync("b");
            AllowedPage = await StaticPage.StartAsync(ClientPage);
            ForeignPage = await StaticPage.StartAsync(ClientPage);
            Gateway = await TestGateway.StartAsync(new RoutesYaml()
                .Server("demo", DemoUpstream, RoutesYaml.NoProbes)
                .Server("quiet", QuietUpstream, RoutesYaml.NoProbes)
                .Gateway($"allowedOrigins: ['{AllowedPage.Origin}']").ToString());
            Chromium = await HeadlessChromium.LaunchAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await Chromium.DisposeAsync();
            await Gateway.DisposeAsync();
            await ForeignPage.DisposeAsync();
            await AllowedPage.DisposeAsync();
            await QuietUpstream.DisposeAsync();
            await DemoUpstream.DisposeAsync();
        }
    }
}
