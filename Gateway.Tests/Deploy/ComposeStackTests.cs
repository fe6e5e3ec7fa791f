using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.UpstreamTokens;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace Gateway.Tests.Deploy;

/// <summary>
/// <c>deploy/compose</c> cannot be started without Docker, so it is checked statically: its parts, the files it
/// mounts, its routes (by the gateway's validator) and its Prometheus configuration (by <c>promtool</c>).
/// </summary>
public sealed class ComposeStackTests
{
    private static readonly string Compose = Path.Combine(RepositoryPaths.Root, "deploy", "compose");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Stack_HasEveryPart_AndEveryMountedFileExists()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(Compose, "compose.yaml"))));
        var services = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["services"];

        Assert.Equal(["everything", "gateway", "grafana", "keycloak", "prometheus", "redis"], services.Children.Keys.Select(k => k.ToString()).Order());
        var mounts = services.Children.Values.Cast<YamlMappingNode>()
            .Where(s => s.Children.ContainsKey("volumes"))
            .SelectMany(s => ((YamlSequenceNode)s["volumes"]).Children.Select(v => v.ToString().Split(':')[0]))
            .ToList();
        Assert.Contains("../keycloak", mounts);
        Assert.Contains("../../grafana/dashboards", mounts);
        Assert.All(mounts, source =>
        {
            var path = Path.GetFullPath(Path.Combine(Compose, source));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"{source} (mounted by compose.yaml) does not exist.");
        });
    }

    [Fact]
    public void Routes_PassTheGatewaysValidation()
    {
        var configuration = new ConfigurationBuilder().AddYamlFile(Path.Combine(Compose, "routes.yaml")).Build();

        var options = RoutesLoader.Load(configuration, out var errors);

        Assert.Empty(errors);
        Assert.Equal(UpstreamAuthStrategy.TokenExchange, options!.Routes.Servers["everything"].UpstreamAuth.Strategy);
    }

    [Fact]
    public async Task PrometheusConfig_PassesPromtool()
    {
        var promtool = new[] { "/usr/bin/promtool", Path.Combine(RepositoryPaths.Root, ".tools", "usr", "bin", "promtool") }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("promtool is missing. .ci/run unpacks Debian's prometheus package into .tools/ for it.");
        var (exitCode, output) = await ChildProcess.RunAsync(promtool, ["check", "config", Path.Combine(Compose, "prometheus.yml")], TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }
}
