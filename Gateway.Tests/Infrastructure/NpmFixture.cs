using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A folder of <c>Fixtures/</c> whose npm packages the tests run. <c>.ci/run</c> installs each with <c>npm ci</c>, and
/// so does the first test that needs one when it is missing.
/// </summary>
public static class NpmFixture
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Installed = new(StringComparer.Ordinal);

    /// <summary>The full path of <paramref name="entry"/> in <c>Fixtures/&lt;name&gt;</c>, its packages installed.</summary>
    public static string Ensure(string name, string entry) =>
        Installed.GetOrAdd(name + "/" + entry, _ => new Lazy<string>(() => Install(name, entry))).Value;

    private static string Install(string name, string entry)
    {
        var folder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Fixtures", name));
        var path = Path.Combine(folder, entry);
        if (!File.Exists(path))
        {
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
            {
                npm.ArgumentList.Add(arg);
            }

            using var install = Process.Start(npm)!;
            var errors = install.StandardError.ReadToEndAsync();
            install.StandardOutput.ReadToEnd();
            install.WaitForExit();
            Assert.True(install.ExitCode == 0 && File.Exists(path), $"'npm ci' in {folder} failed: {errors.Result}");
        }

        return path;
    }
}
