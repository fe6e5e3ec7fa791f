using Gateway.Proxy.Hosting;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>A bad routes file stops the gateway with one message that names every key and its fix.</summary>
public sealed class RoutesValidationTests
{
    [Fact]
    public async Task InvalidFile_StopsStartup_ListingEveryProblemWithItsKey()
    {
        var path = await WriteRoutesAsync("""
            servers:
              bad name:
                destinations:
                  - url: http://127.0.0.1:1/mcp
              demo:
                transport: carrier-pigeon
                loadBalancing: Sticky
                destinations:
                  - url: not-a-url
                  - url: http://user:pw@127.0.0.1:1/mcp
                  - url: ftp://127.0.0.1/mcp
                timeouts:
                  activity: '-00:00:01'
                headers:
                  Mcp-Session-Id: nope
              empty:
                transport: http
            gateway:
              maxRequestBodyBytes: 10
              allowedOrigins: ['https://app.example.com/path']
              dataProtection:
                keysDirectory: /tmp/keys
                redis: localhost:6379
            """);

        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        string[] keys =
        [
            "servers.bad name:", "servers.demo.transport:", "servers.demo.loadBalancing:", "servers.demo.destinations[0].url:",
            "servers.demo.destinations[1].url:", "servers.demo.destinations[2].url:", "servers.demo.timeouts.activity:",
            "servers.demo.headers.Mcp-Session-Id:", "servers.empty.destinations:", "gateway.maxRequestBodyBytes:",
            "gateway.allowedOrigins[0]:", "gateway.dataProtection:",
        ];
        Assert.All(keys, key => Assert.Contains(key, error.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidAuthSettings_StopStartup_NamingEachKey()
    {
        var path = await WriteRoutesAsync("""
            servers:
              exchange:
                destinations:
                  - url: http://127.0.0.1:1/mcp
                auth:
                  required: false
                upstreamAuth:
                  strategy: token-exchange
                  tokenEndpoint: /token
              obo:
                destinations:
                  - url: http://127.0.0.1:1/mcp
                upstreamAuth:
                  strategy: obo
              odd:
                destinations:
                  - url: http://127.0.0.1:1/mcp
                upstreamAuth:
                  strategy: magic
              keyed:
                destinations:
                  - url: http://127.0.0.1:1/mcp
                headers:
                  Authorization: Bearer static
                upstreamAuth:
                  strategy: client-credentials
                  tokenEndpoint: https://sso.example.com/realms/mcp/protocol/openid-connect/token
                  clientId: mcp-gateway
            gateway:
              publicUrl: gateway.example.com
              auth:
                authority: http://sso.example.com/realms/mcp
                clockSkew: '00:10:00'
                algorithms: [HS256]
              tokenCache:
                safetyMargin: '-00:00:01'
            """);

        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));

        string[] keys =
        [
            "gateway.publicUrl:", "gateway.auth.authority:", "gateway.auth.clockSkew:", "gateway.auth.algorithms:", "gateway.tokenCache.safetyMargin:",
            "servers.exchange.upstreamAuth.strategy:", "servers.exchange.upstreamAuth.tokenEndpoint:", "servers.exchange.upstreamAuth.clientId:",
            "servers.exchange.upstreamAuth.audience:", "servers.obo.upstreamAuth.strategy:", "servers.obo.upstreamAuth.scopes:",
            "servers.odd.upstreamAuth.strategy:", "servers.keyed.headers.Authorization:",
        ];
        Assert.All(keys, key => Assert.Contains(key, error.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServerAuth_WithoutATrustedIssuer_IsReported()
    {
        var path = await WriteRoutesAsync("""
            servers:
              demo:
                destinations:
                  - url: http://127.0.0.1:1/mcp
                auth:
                  scopes: [tools:call]
            """);

        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));
        Assert.Contains("servers.demo.auth: tokens are required but no issuer is trusted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadmeWorkedExample_IsValid()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "README.md"), TestContext.Current.CancellationToken);
        var start = readme.IndexOf("```yaml\nservers:", StringComparison.Ordinal) + "```yaml\n".Length;
        var example = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        var path = await WriteRoutesAsync(example);

        var options = RoutesLoader.Load(new ConfigurationBuilder().AddYamlFile(path).Build(), out var errors);

        Assert.Empty(errors);
        Assert.Equal(["filesystem", "github"], options!.Servers.Keys.Order());
    }

    [Fact]
    public async Task MisspelledKey_IsReported()
    {
        var path = await WriteRoutesAsync("""
            servers:
              demo:
                destination:
                  - url: http://127.0.0.1:1/mcp
            """);

        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));
        Assert.Contains("destination", error.Message, StringComparison.Ordinal);
        Assert.Contains("servers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnparsableYaml_IsReported()
    {
        var path = await WriteRoutesAsync("servers:\n  demo: [unclosed\n");
        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_IsReported_WithHowToNameOne()
    {
        var path = Path.Combine(TempDirectory.Create(), "absent.yaml");
        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));
        Assert.Contains("GATEWAY_ROUTES_FILE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoServers_IsReported()
    {
        var result = new RoutesValidator().Validate(null, new RoutesOptions());
        Assert.True(result.Failed);
        Assert.StartsWith("servers:", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void RepositoryDefaultRoutes_AreValid()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "routes.yaml");
        var configuration = new ConfigurationBuilder().AddYamlFile(path).Build();
        var options = RoutesLoader.Load(configuration, out var errors);
        Assert.Empty(errors);
        Assert.NotEmpty(options!.Servers);
    }

    private static async Task<string> WriteRoutesAsync(string yaml)
    {
        var path = Path.Combine(TempDirectory.Create(), "routes.yaml");
        await File.WriteAllTextAsync(path, yaml, TestContext.Current.CancellationToken);
        return path;
    }
}
