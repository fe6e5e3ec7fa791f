using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>Requests written byte for byte on a socket, for what no HTTP client library sends.</summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> as is and returns the status line of the answer.</summary>
    public static async Task<string> SendAsync(Uri server, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync(TestContext.Current.CancellationToken) ?? string.Empty;
    }
}
