namespace Gateway.Tests.Infrastructure;

/// <summary>A stdio MCP server the tests can run: the program and its arguments.</summary>
public sealed record StdioCommand(string Program, IReadOnlyList<string> Args)
{
    /// <summary>The C# test server of <c>Fixtures/StdioTestServer</c>, built beside the tests.</summary>
    public static StdioCommand TestServer { get; } = new("dotnet", [Path.Combine(AppContext.BaseDirectory, "StdioTestServer.dll")]);

    /// <summary>The reference server from npm, installed into <c>Fixtures/server-everything</c> by <c>.ci/run</c> (npm ci).</summary>
    public static StdioCommand Everything
    {
        get
        {
            var fixture = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Fixtures", "server-everything"));
            var entry = Path.Combine(fixture, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
            Assert.True(File.Exists(entry), $"server-everything is not installed: run 'npm ci' in {fixture} (.ci/run does).");
            return new StdioCommand("node", [entry, "stdio"]);
        }
    }
}
