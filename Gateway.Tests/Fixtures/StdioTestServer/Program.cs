using System.Globalization;
using Gateway.Tests.StdioTestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A slow starter, to show that session start waits for the process rather than failing.
if (int.TryParse(Environment.GetEnvironmentVariable("STDIO_TEST_START_DELAY_MS"), CultureInfo.InvariantCulture, out var delay))
{
    await Task.Delay(delay);
}

await Console.Error.WriteLineAsync("stdio test server starting");
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "stdio-test-server", Version = "1.0.0" })
    .WithStdioServerTransport()
    .WithTools<TestTools>();
await builder.Build().RunAsync();
