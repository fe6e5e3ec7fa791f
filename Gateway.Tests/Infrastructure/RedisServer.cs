using System.Diagnostics;
using System.Net.Sockets;

[assembly: AssemblyFixture(typeof(Gateway.Tests.Infrastructure.RedisServer))]

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence, for the whole test run. The binary
/// comes from the Debian package <c>redis-server</c>, which <c>.ci/run</c> installs.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private static readonly string[] Locations = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];
    private Process? _process;

    public int Port { get; } = UpstreamPort.Free();

    public string ConnectionString => $"127.0.0.1:{Port}";

    public async ValueTask InitializeAsync()
    {
        var binary = Locations.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed. Install it with 'apt-get install -y redis-server' (.ci/run does).");
        _process = Process.Start(new ProcessStartInfo(binary, ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
