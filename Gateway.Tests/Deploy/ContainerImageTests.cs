using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>
/// The OCI image as <c>deploy/image/build.sh</c> builds it from Debian packages (no container engine), run with
/// <c>deploy/image/run.sh</c> (its entrypoint, environment and user, chrooted into its root filesystem, read-only but
/// for /tmp and the user's home): healthy, proxying to an upstream outside it, not root, and free of what an image
/// should not carry.
/// </summary>
[Collection(ContainerImageGroup.Name)]
public sealed class ContainerImageTests
{
    private static readonly string Image = Path.Combine(RepositoryPaths.Root, "deploy", "image");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Image_BuiltFromDebianPackages_RunsAsItsUser_AndProxiesToAnUpstream()
    {
        Assert.SkipWhen(Environment.UserName != "root", "The image is built with debootstrap and run with chroot, which need root (.ci/run is root).");
        Assert.SkipWhen(!File.Exists("/usr/sbin/debootstrap"), "debootstrap is not installed (.ci/run installs it with umoci, skopeo and docker-registry).");

        var (built, buildLog) = await ChildProcess.RunAsync("bash", [Path.Combine(Image, "build.sh")], TimeSpan.FromMinutes(10));
        Assert.True(built == 0, buildLog);
        var archive = Path.Combine(Image, "out", "mcp-gateway.tar");
        TestContext.Current.SendDiagnosticMessage($"image: {new FileInfo(archive).Length / 1024 / 1024} MB archive; {buildLog.Trim()}");

        await using var upstream = await TestUpstream.StartAsync("outside");
        var work = TempDirectory.Create();
        using (var container = await StartAsync(archive, new RoutesYaml(keysDirectory: "/tmp/keys").Server("demo", upstream).ToString(), work, copy: null))
        {
            Assert.Contains("whoami", await ToolsAsync(container.Http), StringComparison.Ordinal);

            // The gateway's process, as the host sees it: the image's user.
            var gateway = Process.GetProcessesByName("dotnet").Single(p => File.ReadAllText($"/proc/{p.Id}/cmdline").Contains("/app/Gateway.Proxy.dll", StringComparison.Ordinal));
            Assert.Contains(File.ReadAllLines($"/proc/{gateway.Id}/status"), l => l.StartsWith("Uid:\t1654\t", StringComparison.Ordinal));

            // Its root filesystem is read-only (mountinfo: the 5th field is the mount point, the 6th its options).
            var root = File.ReadAllLines($"/proc/{gateway.Id}/mountinfo").Select(l => l.Split(' ')).Single(f => f[4] == "/");
            Assert.StartsWith("ro", root[5], StringComparison.Ordinal);
        }

        var rootfs = Path.Combine(work, "bundle", "rootfs");
        Assert.Empty(Directory.GetFiles(Path.Combine(rootfs, "var", "lib", "apt", "lists")));
        Assert.False(File.Exists(Path.Combine(rootfs, "root", ".bash_history")));
        Assert.False(Directory.Exists(Path.Combine(rootfs, "usr", "share", "dotnet", "sdk")));
        Assert.True(File.Exists(Path.Combine(rootfs, "app", "Gateway.Proxy.dll")));
        Assert.False(File.Exists(Path.Combine(rootfs, "usr", "bin", "node")));
        var labels = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(work, "bundle", "config.json"), Ct)).RootElement.GetProperty("annotations");
        Assert.Equal("mcp-gateway", labels.GetProperty("org.opencontainers.image.title").GetString());

        // The node variant runs a stdio server inside, with its Node.js (the server's package copied in, as a volume would bring it).
        var everything = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(StdioCommand.Everything.Args[0]))))!;
        var routes = "servers:\n  everything:\n    transport: stdio\n    stdio:\n      command: node\n"
            + "      args: ['/opt/everything/node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio']\n"
            + "gateway:\n  dataProtection: { keysDirectory: /tmp/keys }\n";
        var nodeWork = TempDirectory.Create();
        using (var container = await StartAsync(Path.Combine(Image, "out", "mcp-gateway-node.tar"), routes, nodeWork, copy: $"{everything}:/opt/everything/node_modules"))
        {
            Assert.Contains("get-sum", await ToolsAsync(container.Http), StringComparison.Ordinal);
        }

        Assert.True(File.Exists(Path.Combine(nodeWork, "bundle", "rootfs", "usr", "bin", "npx")));
    }

    /// <summary>Starts <paramref name="archive"/> with <c>run.sh</c> on <paramref name="routes"/> and waits until it is ready.</summary>
    private static async Task<RunningImage> StartAsync(string archive, string routes, string work, string? copy)
    {
        var routesPath = Path.Combine(TempDirectory.Create(), "routes.yaml");
        await File.WriteAllTextAsync(routesPath, routes, Ct);
        var port = UpstreamPort.Free();
        var started = Stopwatch.StartNew();
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(Image, "run.sh"), archive, routesPath, port.ToString(CultureInfo.InvariantCulture), work })
        {
            start.ArgumentList.Add(arg);
        }

        if (copy is not null)
        {
            start.Environment["RUN_COPY"] = copy;
        }

        var running = new RunningImage(new ChildProcess(Process.Start(start)!), new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) });
        running.Process.Process.BeginOutputReadLine();
        running.Process.Process.BeginErrorReadLine();
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return await running.Http.GetStringAsync("/health/ready", Ct) == "Healthy";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, timeoutSeconds: 60);
        TestContext.Current.SendDiagnosticMessage($"image: {Path.GetFileName(archive)} cold start (unpack, start, ready) {started.Elapsed.TotalSeconds:F1} s");
        return running;
    }

    private static async Task<string> ToolsAsync(HttpClient http)
    {
        var server = (await http.GetFromJsonAsync<JsonElement>("/api/v1/services", Ct))[0].GetProperty("name").GetString();
        var session = await RawMcp.InitializeAsync(http, $"/mcp/{server}");
        using var list = await http.SendAsync(RawMcp.Post($"/mcp/{server}", """{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}""", session), Ct);
        return (await RawMcp.ReadMessageAsync(list)).GetRawText();
    }

    /// <summary>The image running, and a client of its gateway.</summary>
    private sealed record RunningImage(ChildProcess Process, HttpClient Http) : IDisposable
    {
        public void Dispose()
        {
            Http.Dispose();
            Process.Dispose();
        }
    }
}

/// <summary>The image build publishes in Release and unpacks a root filesystem: alone, after the tests that run in parallel, so that their timings do not suffer.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ContainerImageGroup
{
    public const string Name = "container image";
}
