namespace Gateway.Tests.Infrastructure;

/// <summary>A stdio MCP server the tests can run: the program and its arguments.</summary>
public sealed record StdioCommand(string Program, IReadOnlyList<string> Args)
{
    /// <summary>The C# test server of <c>Fixtures/StdioTestServer</c>, built beside the tests.</summary>
    public static StdioCommand TestServer { get; } = new("dotnet", [Path.Combine(AppContext.BaseDirectory, "StdioTestServer.dll")]);

    /// <summary>
    /// The reference server from npm, in <c>Fixtures/server-everything</c>: <c>.ci/run</c> installs it with
    /// <c>npm ci</c>, and so does the first test that needs it when it is missing.
    /// </summary>
    public static StdioCommand Everything =>
        new("node", [NpmFixture.Ensure("server-everything", Path.Combine("node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")), "stdio"]);
}
