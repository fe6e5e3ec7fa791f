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
        Assert.Equal(["filesystem", "github"], options!.Routes.Servers.Keys.Order());
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
        Assert.Contains("servers.demo: unknown key 'destination'. Keys here: transport, stdio, destinations,", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownKey_IsReportedAtItsOwnLevel()
    {
        var errors = Load("""
            servers:
              everything:
                transport: stdio
                stdio: { comand: npx, args: [-y, server-everything] }
            gateway:
              sessions: { lifetime: 1d, renew: true }
            """);

        Assert.Contains("servers.everything.stdio: unknown key 'comand'. Keys here: command, args, workingDirectory,", errors[0], StringComparison.Ordinal);
        Assert.Contains(errors, e => e.StartsWith("gateway.sessions: unknown key 'renew'.", StringComparison.Ordinal));
    }

    [Fact]
    public void Durations_TakeUnits_AndABareNumberIsRefused_ShowingTheFormat()
    {
        var routes = RoutesLoader.Load(Configuration("""
            servers:
              demo:
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
                timeouts: { connect: 1500ms, activity: 1h30m }
                circuitBreaker: { breakDuration: '00:00:45' }
            gateway:
              sessions: { lifetime: 2d }
            """), out var errors);

        Assert.Empty(errors);
        var demo = routes!.Routes.Servers["demo"];
        Assert.Equal(TimeSpan.FromMilliseconds(1500), demo.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromMinutes(90), demo.Timeouts.Activity);
        Assert.Equal(TimeSpan.FromSeconds(45), demo.CircuitBreaker.BreakDuration);
        Assert.Equal(TimeSpan.FromDays(2), routes.Startup.Sessions.Lifetime);

        var refused = Load("""
            servers:
              demo:
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
                timeouts: { activity: 60 }
            """);
        Assert.Equal(
            "servers.demo.timeouts.activity: '60' is not a duration. Write it with a unit, e.g. '30s', '5m', '1h', '250ms', or as 'hh:mm:ss'.",
            Assert.Single(refused));
    }

    [Fact]
    public void SingleValue_WhereAListOrMapBelongs_IsReported_NotDropped()
    {
        var errors = Load("""
            servers:
              demo:
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
                auth: { scopes: tools:call }
                headers: 'X-Api-Key: secret'
            gateway:
              allowedOrigins: https://app.example.com
            """);

        Assert.Contains("servers.demo.auth.scopes: expects a list, e.g. '[ a, b ]', not the single value 'tools:call'.", errors);
        Assert.Contains("servers.demo.headers: expects a map of keys and values, not the single value 'X-Api-Key: secret'.", errors);
        Assert.Contains("gateway.allowedOrigins: expects a list, e.g. '[ a, b ]', not the single value 'https://app.example.com'.", errors);
    }

    [Fact]
    public void ProtectedServer_NeedsAPublicUrlOrAnAudience_NotTheRequestsHost()
    {
        const string Servers = """
            servers:
              demo:
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
            """;
        var errors = Load(Servers + "\ngateway:\n  auth: { authority: 'https://sso.example.com/realms/mcp' }\n");
        Assert.StartsWith("gateway.publicUrl: required, since servers.demo accepts tokens for its resource URL", Assert.Single(errors), StringComparison.Ordinal);

        RoutesLoader.Load(Configuration(Servers + "\ngateway:\n  auth: { authority: 'https://sso.example.com/realms/mcp', audience: mcp-gateway }\n"), out var withAudience);
        RoutesLoader.Load(Configuration(Servers + "\ngateway:\n  publicUrl: https://mcp.example.com\n  auth: { authority: 'https://sso.example.com/realms/mcp' }\n"), out var withPublicUrl);
        Assert.Empty(withAudience);
        Assert.Empty(withPublicUrl);
    }

    [Fact]
    public void UnknownTopLevelKey_IsReported()
    {
        var errors = Load("""
            servers:
              demo:
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
            gatway:
              auth: { authority: 'https://sso.example.com/realms/mcp' }
            """);

        Assert.Equal("gatway: unknown key at the top of the file. Keys here: servers, gateway.", Assert.Single(errors));
    }

    [Fact]
    public void EmptyValue_LeavesANullableSettingUnset_AndAnAbsurdDurationIsAnError()
    {
        var routes = RoutesLoader.Load(Configuration("""
            servers:
              demo:
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
                maxRequestBodyBytes:
                auth: { required: }
            """), out var errors);
        Assert.Empty(errors);
        Assert.Null(routes!.Routes.Servers["demo"].MaxRequestBodyBytes);
        Assert.Null(routes.Routes.Servers["demo"].Auth.Required);

        var refused = Load("""
            servers:
              demo:
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
                timeouts: { activity: 99999999999d }
            """);
        Assert.StartsWith("servers.demo.timeouts.activity: '99999999999d' is not a duration.", Assert.Single(refused), StringComparison.Ordinal);
    }

    [Fact]
    public void BadValues_AreEachReportedByKey_WithoutDotNetTypeNames()
    {
        var errors = Load("""
            servers:
              demo:
                transport: carrier-pigeon
                destinations: [ { url: 'http://127.0.0.1:1/mcp' } ]
                maxRequestBodyBytes: lots
                healthCheck: { enabled: sometimes }
                circuitBreaker: { failureRatio: half }
                upstreamAuth: { strategy: magic }
              files:
                transport: stdio
                stdio: { command: npx, mode: pooled, maxProcesses: many }
            """);

        string[] expected =
        [
            "servers.demo.transport: 'carrier-pigeon' is not one of: http, stdio, virtual.",
            "servers.demo.maxRequestBodyBytes: 'lots' is not a whole number.",
            "servers.demo.healthCheck.enabled: 'sometimes' is not true or false.",
            "servers.demo.circuitBreaker.failureRatio: 'half' is not a number, e.g. 0.5.",
            "servers.demo.upstreamAuth.strategy: 'magic' is not one of: none, passthrough, obo, token-exchange, client-credentials.",
            "servers.files.stdio.mode: 'pooled' is not one of: perSession, shared.",
            "servers.files.stdio.maxProcesses: 'many' is not a whole number.",
        ];
        Assert.All(expected, e => Assert.Contains(errors, error => error.StartsWith(e, StringComparison.Ordinal)));
        Assert.DoesNotContain(errors, e => e.Contains("Gateway.", StringComparison.Ordinal) || e.Contains("System.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnparsableYaml_IsReported()
    {
        var path = await WriteRoutesAsync("servers:\n  demo: { transport: 'http }\n");
        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));
        Assert.Contains("Not valid YAML at line 2, column", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateKey_IsReportedWithItsLines()
    {
        var path = await WriteRoutesAsync("servers:\n  demo:\n    transport: stdio\n    transport: http\n");
        var error = await Assert.ThrowsAsync<InvalidRoutesException>(() => GatewayApplication.BuildAsync(["--routes", path, "--port", "0"]));
        Assert.Contains("servers.demo.transport: given twice, at line 3 and line 4.", error.Message, StringComparison.Ordinal);
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
        var errors = RoutesValidator.Validate(new RoutesOptions(), new StartupOptions());
        Assert.StartsWith("servers:", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void RepositoryDefaultRoutes_AreValid()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "routes.yaml");
        var configuration = new ConfigurationBuilder().AddYamlFile(path).Build();
        var options = RoutesLoader.Load(configuration, out var errors);
        Assert.Empty(errors);
        Assert.NotEmpty(options!.Routes.Servers);
    }

    [Fact]
    public void BlankToolPattern_IsReportedWithItsKey()
    {
        var error = Assert.Single(Load("servers: { demo: { destinations: [ { url: 'http://127.0.0.1:1/mcp' } ], tools: { deny: ['delete_*', ' '] } } }\n"));

        Assert.StartsWith("servers.demo.tools.deny[1]: ' ' is no pattern.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void PolicyRuleThatNamesNoTarget_IsReportedWithItsIndex()
    {
        var errors = Load("servers: { demo: { destinations: [ { url: 'http://127.0.0.1:1/mcp' } ], policy: [ { roles: [admin], tools: ['*'] }, { roles: [''], action: deny } ], policyDefault: maybe } }\n");

        Assert.Contains(errors, e => e.StartsWith("servers.demo.policy[1]: names no tools, resources or prompts", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.demo.policy[1].roles: an empty value matches no caller.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.demo.policyDefault: 'maybe' is not", StringComparison.Ordinal));
    }

    [Fact]
    public void TrustedProxyThatIsNoAddress_IsReportedWithItsKey()
    {
        var errors = Load("servers: { demo: { destinations: [ { url: 'http://127.0.0.1:1/mcp' } ] } }\ngateway: { trustedProxies: ['10.0.0.0/8', '::1', 'proxy.internal'] }\n");

        var error = Assert.Single(errors);
        Assert.StartsWith("gateway.trustedProxies[2]: 'proxy.internal' is neither an IP address nor a network.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void VirtualServer_MembersMustExist_NotBeVirtual_AndBeNamedOnce()
    {
        var errors = Load("""
            servers:
              github: { destinations: [ { url: 'http://127.0.0.1:1/mcp' } ] }
              my__files: { destinations: [ { url: 'http://127.0.0.1:2/mcp' } ] }
              inner: { transport: virtual, members: [ github ] }
              work:
                transport: virtual
                members: [ github, nothere, inner, GitHub, my__files ]
                destinations: [ { url: 'http://127.0.0.1:3/mcp' } ]
                tools: { deny: ['delete_*'] }
                circuitBreaker: { enabled: false }
              solo: { members: [ github ] }
              empty: { transport: virtual }
            """);

        Assert.Contains(errors, e => e.StartsWith("servers.work.members[1]: 'nothere' is not a configured server. Add 'servers.nothere', or remove it from the members.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.work.members[2]: 'inner' is a virtual server itself.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.work.members[3]: 'GitHub' is named twice.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.work.members[3]: the server is spelled 'github'. Write 'github'.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.work.members[4]: 'my__files' contains '__'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.work.destinations: a virtual server has no destinations of its own", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.work.tools: a virtual server has no tools of its own: set the lists on the members", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.work.circuitBreaker: a virtual server has no circuitBreaker of its own: each member has its own breakers.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.solo.members: only a 'transport: virtual' server has members.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("servers.empty.members: a virtual server serves other servers as one.", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.StartsWith("servers.inner", StringComparison.Ordinal));
    }

    [Fact]
    public void VirtualServer_WithUnchangedNames_MayHaveMembersWithTheSeparator()
    {
        var configuration = RoutesLoader.Load(Configuration("""
            servers:
              my__files: { destinations: [ { url: 'http://127.0.0.1:2/mcp' } ] }
              work: { transport: virtual, members: [ my__files ], toolNames: unchanged, memberTimeout: '00:00:02' }
            """), out var errors);

        Assert.Empty(errors);
        var work = configuration!.Routes.Servers["work"];
        Assert.Equal(Gateway.Transforms.VirtualServers.ToolNaming.Unchanged, work.ToolNames);
        Assert.Equal(TimeSpan.FromSeconds(2), work.MemberTimeout);
    }

    private static IReadOnlyList<string> Load(string yaml)
    {
        Assert.Null(RoutesLoader.Load(Configuration(yaml), out var errors));
        return errors;
    }

    private static IConfiguration Configuration(string yaml)
    {
        var path = Path.Combine(TempDirectory.Create(), "routes.yaml");
        File.WriteAllText(path, yaml);
        return new ConfigurationBuilder().AddYamlFile(path).Build();
    }

    private static async Task<string> WriteRoutesAsync(string yaml)
    {
        var path = Path.Combine(TempDirectory.Create(), "routes.yaml");
        await File.WriteAllTextAsync(path, yaml, TestContext.Current.CancellationToken);
        return path;
    }
}
