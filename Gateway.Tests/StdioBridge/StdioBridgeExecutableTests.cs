using System.Diagnostics;
using Gateway.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.StdioBridge;

/// <summary>The bridge as its own program (a sidecar, a laptop): started from the command line or a YAML file.</summary>
public sealed class StdioBridgeExecutableTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InlineCommand_ServesTheServer()
    {
        var port = UpstreamPort.Free();
        using var bridge = Start(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--name", "test", "--", StdioCommand.TestServer.Program, .. StdioCommand.TestServer.Args]);

        Assert.Equal("from the sidecar", await EchoAsync(new Uri($"http://127.0.0.1:{port}/test/mcp"), "from the sidecar"));
    }

    [Fact]
    public async Task ConfigFile_ServesEachServer()
    {
        var port = UpstreamPort.Free();
        var config = Path.Combine(TempDirectory.Create(), "bridge.yaml");
        await File.WriteAllTextAsync(config, $"""
            servers:
              one:
                command: '{StdioCommand.TestServer.Program}'
                args: ['{StdioCommand.TestServer.Args[0]}']
              two:
                command: '{StdioCommand.TestServer.Program}'
                args: ['{StdioCommand.TestServer.Args[0]}']
                warmPool: 1
            """, Ct);
        using var bridge = Start(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--config", config]);

        Assert.Equal("one", await EchoAsync(new Uri($"http://127.0.0.1:{port}/one/mcp"), "one"));
        Assert.Equal("two", await EchoAsync(new Uri($"http://127.0.0.1:{port}/two/mcp"), "two"));
    }

    [Theory]
    [InlineData(new[] { "--name", "x" }, 2, "--name")]
    [InlineData(new[] { "--bogus" }, 2, "--bogus")]
    [InlineData(new[] { "--config", "/nonexistent/bridge.yaml" }, 1, "does not exist")]
    public async Task BadCommandLine_ExitsWithTheReason(string[] args, int exitCode, string reason)
    {
        using var bridge = Start(args);
        var stderr = await bridge.Process.StandardError.ReadToEndAsync(Ct);
        await bridge.Process.WaitForExitAsync(Ct);

        Assert.Equal(exitCode, bridge.Process.ExitCode);
        Assert.Contains(reason, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_StopsTheBridgeAndEveryProcess_WithExitCodeZero()
    {
        var port = UpstreamPort.Free();
        using var bridge = Start(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--name", "test", "--", StdioCommand.TestServer.Program, .. StdioCommand.TestServer.Args]);
        await using var client = await ConnectAsync(new Uri($"http://127.0.0.1:{port}/test/mcp"));
        var pid = int.Parse(Assert.IsType<TextContentBlock>(Assert.Single((await client.CallToolAsync("pid", cancellationToken: Ct)).Content)).Text, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(0, Signals.Terminate(bridge.Process.Id));
        await bridge.Process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(0, bridge.Process.ExitCode);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
    }

    private static ChildProcess Start(string[] args) => ChildProcess.StartDotnet("Gateway.StdioBridge.dll", args);

    private static async Task<string> EchoAsync(Uri endpoint, string message)
    {
        await using var client = await ConnectAsync(endpoint);
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: Ct);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

    private static async Task<McpClient> ConnectAsync(Uri endpoint)
    {
        McpClient? client = null;
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                client = await McpClient.CreateAsync(
                    new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }),
                    cancellationToken: Ct);
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        });
        return client!;
    }
}
