using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A stateless MCP server of the TypeScript SDK that answers with JSON, not SSE (<c>Fixtures/ts-client/json-server.mjs</c>):
/// tools echo, whoami, delete_everything; prompts greet, internal_prompt; resources test://readme, test://secret/keys.
/// </summary>
public sealed class JsonAnsweringUpstream : IDisposable
{
    private readonly ChildProcess _process;

    private JsonAnsweringUpstream(ChildProcess process, int port)
    {
        _process = process;
        Endpoint = new Uri($"http://127.0.0.1:{port}/mcp");
    }

    public Uri Endpoint { get; }

    /// <summary>Gives <paramref name="tool"/> another description from the next request on.</summary>
    public async Task DescribeAsync(string tool, string description)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(new Uri(Endpoint, "/control/describe"),
            new StringContent(System.Text.Json.JsonSerializer.Serialize(new { name = tool, description }), System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public static async Task<JsonAnsweringUpstream> StartAsync()
    {
        NpmFixture.Ensure("ts-client", Path.Combine("node_modules", "@modelcontextprotocol", "sdk", "package.json"));
        var script = NpmFixture.Ensure("ts-client", "json-server.mjs");
        var port = UpstreamPort.Free();
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = new ChildProcess(Process.Start(start)!);
        var listening = await process.Process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        if (listening != "listening")
        {
            process.Process.Kill(entireProcessTree: true);
            var errors = await process.Process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            process.Dispose();
            Assert.Fail($"json-server.mjs did not start: {errors}");
        }

        return new JsonAnsweringUpstream(process, port);
    }

    public void Dispose() => _process.Dispose();
}
