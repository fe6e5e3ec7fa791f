using System.Diagnostics;
using System.Globalization;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Deploy;

/// <summary>
/// The OCI image as <c>deploy/image/build.sh</c> builds it from Debian packages (no container engine), run with
/// <c>deploy/image/run.sh</c> (its entrypoint, environment and user, chrooted into its root filesystem): healthy,
/// proxying to an upstream outside it, not root, and free of what an image should not carry.
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

        var (built, buildLog) = await RunAsync("bash", [Path.Combine(Image, "build.sh")], TimeSpan.FromMinutes(10));
        Assert.True(built == 0, buildLog);
        var archive = Path.Combine(Image, "out", "mcp-gateway.tar");
        TestContext.Current.SendDiagnosticMessage($"image: {new FileInfo(archive).Length / 1024 / 1024} MB archive; {buildLog.Trim()}");

        await using var upstream = await TestUpstream.StartAsync("outside");
        var routes = Path.Combine(TempDirectory.Create(), "routes.yaml");
        await File.WriteAllTextAsync(routes, new RoutesYaml(keysDirectory: "/tmp/keys").Server("demo", upstream).ToString(), Ct);
        var port = UpstreamPort.Free();
        var work = TempDirectory.Create();
        var started = Stopwatch.StartNew();
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(Image, "run.sh"), archive, routes, port.ToString(CultureInfo.InvariantCulture), work })
        {
            start.ArgumentList.Add(arg);
        }

        using var container = new ChildProcess(Process.Start(start)!);
        container.Process.BeginOutputReadLine();
        container.Process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return await http.GetStringAsync("/health/ready", Ct) == "Healthy";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, timeoutSeconds: 60);
        TestContext.Current.SendDiagnosticMessage($"image: cold start (unpack, start, ready) {started.Elapsed.TotalSeconds:F1} s");

        var session = await RawMcp.InitializeAsync(http, "/mcp/demo");
        using (var list = await http.SendAsync(RawMcp.Post("/mcp/demo", """{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}""", session), Ct))
        {
            Assert.Contains("whoami", (await RawMcp.ReadMessageAsync(list)).GetRawText(), StringComparison.Ordinal);
        }

        // The gateway's process, as the host sees it: the image's user.
        var gateway = Process.GetProcessesByName("dotnet").Single(p => File.ReadAllText($"/proc/{p.Id}/cmdline").Contains("/app/Gateway.Proxy.dll", StringComparison.Ordinal));
        Assert.Contains(File.ReadAllLines($"/proc/{gateway.Id}/status"), l => l.StartsWith("Uid:\t1654\t", StringComparison.Ordinal));

        var rootfs = Path.Combine(work, "bundle", "rootfs");
        Assert.Empty(Directory.GetFiles(Path.Combine(rootfs, "var", "lib", "apt", "lists")));
        Assert.False(File.Exists(Path.Combine(rootfs, "root", ".bash_history")));
        Assert.False(Directory.Exists(Path.Combine(rootfs, "usr", "share", "dotnet", "sdk")));
        Assert.True(File.Exists(Path.Combine(rootfs, "app", "Gateway.Proxy.dll")));
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new ChildProcess(Process.Start(start)!);
        var output = process.Process.StandardOutput.ReadToEndAsync(Ct);
        var errors = process.Process.StandardError.ReadToEndAsync(Ct);
        await process.Process.WaitForExitAsync(Ct).WaitAsync(timeout, Ct);
        return (process.Process.ExitCode, await output + await errors);
    }
}

/// <summary>The image build publishes in Release and unpacks a root filesystem: alone, after the tests that run in parallel, so that their timings do not suffer.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ContainerImageGroup
{
    public const string Name = "container image";
}
