using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>A stdio MCP server the tests can run: the program and its arguments.</summary>
public sealed record StdioCommand(string Program, IReadOnlyList<string> Args)
{
    private static readonly string EverythingFixture = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Fixtures", "server-everything"));
    private static readonly Lazy<StdioCommand> InstalledEverything = new(InstallEverything);

    /// <summary>The C# test server of <c>Fixtures/StdioTestServer</c>, built beside the tests.</summary>
    public static StdioCommand TestServer { get; } = new("dotnet", [Path.Combine(AppContext.BaseDirectory, "StdioTestServer.dll")]);

    /// <summary>
    /// The reference server from npm, in <c>Fixtures/server-everything</c>: <c>.ci/run</c> installs it with
    /// <c>npm ci</c>, and so does the first test that needs it when it is missing.
    /// </summary>
    public static StdioCommand Everything => InstalledEverything.Value;

    private static StdioCommand InstallEverything()
    {
        var entry = Path.Combine(EverythingFixture, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
        if (!File.Exists(entry))
        {
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = EverythingFixture, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
            {
                npm.ArgumentList.Add(arg);
            }

            using var install = Process.Start(npm)!;
            var errors = install.StandardError.ReadToEndAsync();
            install.StandardOutput.ReadToEnd();
            install.WaitForExit();
            Assert.True(install.ExitCode == 0 && File.Exists(entry), $"'npm ci' in {EverythingFixture} failed: {errors.Result}");
        }

        return new StdioCommand("node", [entry, "stdio"]);
    }
}
