using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The TypeScript SDK's client (<c>Fixtures/ts-client/client.mjs</c>): connects, lists the tools, calls echo, ends the
/// session, and prints what it saw as one JSON line.
/// </summary>
public static class TypeScriptClient
{
    public static async Task<(int ExitCode, string Output)> RunAsync(Uri endpoint, string? token = null)
    {
        var script = NpmFixture.Ensure("ts-client", "client.mjs");
        NpmFixture.Ensure("ts-client", Path.Combine("node_modules", "@modelcontextprotocol", "sdk", "package.json"));
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(endpoint.ToString());
        if (token is not null)
        {
            start.ArgumentList.Add(token);
        }

        var ct = TestContext.Current.CancellationToken;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        return (process.ExitCode, await output + await errors);
    }
}
