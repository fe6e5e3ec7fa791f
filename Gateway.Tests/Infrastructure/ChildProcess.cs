using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>A process a test started; killed with everything it started if the test did not stop it.</summary>
public sealed class ChildProcess(Process process) : IDisposable
{
    public Process Process { get; } = process;

    /// <summary>Starts <c>dotnet &lt;assembly&gt; &lt;args&gt;</c>, an executable built beside the tests, with its output drained.</summary>
    public static ChildProcess StartDotnet(string assembly, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        return new ChildProcess(process);
    }

    /// <summary>Runs <paramref name="program"/> to its end (killed after <paramref name="timeout"/>): its exit code, and its output then its errors.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var ct = TestContext.Current.CancellationToken;
        using var process = new ChildProcess(Process.Start(start)!);
        var output = process.Process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.Process.StandardError.ReadToEndAsync(ct);
        await process.Process.WaitForExitAsync(ct).WaitAsync(timeout, ct);
        return (process.Process.ExitCode, await output + await errors);
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }
}

/// <summary>POSIX signals, for testing graceful shutdown as a container runtime would ask for it.</summary>
public static class Signals
{
    /// <summary>Sends SIGTERM with kill(1); returns its exit code, 0 on success.</summary>
    public static int Terminate(int pid)
    {
        using var kill = Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode;
    }
}
