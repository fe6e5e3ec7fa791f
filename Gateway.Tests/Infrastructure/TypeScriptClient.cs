namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The TypeScript SDK's client (<c>Fixtures/ts-client/client.mjs</c>): connects, lists the tools, calls echo (or
/// <c>tool</c>), ends the session, and prints what it saw as one JSON line.
/// </summary>
public static class TypeScriptClient
{
    public static Task<(int ExitCode, string Output)> RunAsync(Uri endpoint, string? token = null, string tool = "echo")
    {
        var script = NpmFixture.Ensure("ts-client", "client.mjs");
        NpmFixture.Ensure("ts-client", Path.Combine("node_modules", "@modelcontextprotocol", "sdk", "package.json"));
        string[] args = token is null ? [script, endpoint.ToString(), "--tool=" + tool] : [script, endpoint.ToString(), token, "--tool=" + tool];
        return ChildProcess.RunAsync("node", args, TimeSpan.FromSeconds(60));
    }
}
