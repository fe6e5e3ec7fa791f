using System.Diagnostics;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Configuration;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace Gateway.Tests.Deploy;

/// <summary>
/// <c>deploy/k8s</c> renders with <c>kubectl kustomize</c> (Debian's kubernetes-client, which <c>.ci/run</c>
/// installs) into what the README promises, with a routes.yaml the gateway itself accepts.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Overlays = Path.Combine(RepositoryPaths.Root, "deploy", "k8s", "overlays");

    [Theory]
    [InlineData("production", 3)]
    [InlineData("development", 1)]
    public async Task Overlay_Renders_WithProbesDrainAndEveryPart(string overlay, int replicas)
    {
        var documents = await RenderAsync(Path.Combine(Overlays, overlay));

        var deployment = Single(documents, "Deployment", "mcp-gateway");
        var pod = deployment["spec"]["template"]["spec"];
        var container = ((YamlSequenceNode)pod["containers"]).Children.Cast<YamlMappingNode>().Single(c => c["name"].ToString() == "gateway");
        Assert.Equal(replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), deployment["spec"]["replicas"].ToString());
        Assert.Equal("/health/live", container["livenessProbe"]["httpGet"]["path"].ToString());
        Assert.Equal("/health/ready", container["readinessProbe"]["httpGet"]["path"].ToString());
        Assert.True(((YamlMappingNode)container["lifecycle"]).Children.ContainsKey("preStop"));
        Assert.True(((YamlMappingNode)container).Children.ContainsKey("resources"));
        Assert.Equal("true", pod["securityContext"]["runAsNonRoot"].ToString());

        var routes = ((YamlMappingNode)Single(documents, "ConfigMap", null)["data"])["routes.yaml"].ToString();
        var gateway = AssertValid(routes);
        var grace = int.Parse(pod["terminationGracePeriodSeconds"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(grace > gateway.Startup.Shutdown.GracePeriod.TotalSeconds + gateway.Startup.Shutdown.DrainDelay.TotalSeconds);

        var service = Single(documents, "Service", "mcp-gateway");
        Assert.False(((YamlMappingNode)service["spec"]).Children.ContainsKey("sessionAffinity"));
        Assert.Equal("off", Single(documents, "Ingress", "mcp-gateway")["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"].ToString());
        foreach (var kind in new[] { "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor", "HTTPRoute", "Secret" })
        {
            Single(documents, kind, null);
        }

        Assert.All(documents.Where(d => d["metadata"] is YamlMappingNode m && m.Children.ContainsKey("namespace")), d =>
            Assert.StartsWith("mcp-gateway", d["metadata"]["namespace"].ToString(), StringComparison.Ordinal));
    }

    /// <summary>The routes file in the ConfigMap passes the gateway's own validation.</summary>
    private static GatewayConfiguration AssertValid(string routes)
    {
        var path = Path.Combine(TempDirectory.Create(), "routes.yaml");
        File.WriteAllText(path, routes);
        var configuration = new ConfigurationBuilder().AddYamlFile(path).Build();
        var options = RoutesLoader.Load(configuration, out var errors);
        Assert.Empty(errors);
        return options!;
    }

    private static YamlMappingNode Single(IEnumerable<YamlMappingNode> documents, string kind, string? name) =>
        Assert.Single(documents, d => d["kind"].ToString() == kind && (name is null || d["metadata"]["name"].ToString() == name));

    private static async Task<List<YamlMappingNode>> RenderAsync(string directory)
    {
        var start = new ProcessStartInfo("kubectl", ["kustomize", directory]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("kubectl is not installed. Install it with 'apt-get install -y kubernetes-client' (.ci/run does).");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(process.ExitCode == 0, await error);
            var stream = new YamlStream();
            stream.Load(new StringReader(await output));
            return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
        }
    }
}
