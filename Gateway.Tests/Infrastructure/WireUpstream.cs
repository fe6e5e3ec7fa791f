using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>One request as a raw TCP upstream saw it: in how many TCP segments it came (null where the OS does not say), and what it said.</summary>
public sealed record WireRequest(int? DataSegments, string Headers, string Body);

/// <summary>
/// An upstream that records how a request arrived (in how many TCP segments), not just what it said. Answers every
/// POST with an empty JSON-RPC result; one request per connection.
/// </summary>
public sealed class WireUpstream : RawTcpUpstream
{
    private const string HeaderEnd = "\r\n\r\n";

    public ConcurrentQueue<WireRequest> Requests { get; } = new();

    protected override async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            // Latin-1 keeps one char per byte, so lengths below are byte counts.
            var buffer = new byte[64 * 1024];
            var received = new StringBuilder();
            int read;
            do
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None);
                received.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }
            while (read > 0 && !IsComplete(received.ToString()));

            var request = received.ToString();
            var headerEnd = request.IndexOf(HeaderEnd, StringComparison.Ordinal);
            Requests.Enqueue(new WireRequest(DataSegmentsIn(socket), request[..headerEnd], request[(headerEnd + HeaderEnd.Length)..]));

            const string answer = """{"jsonrpc":"2.0","id":2,"result":{}}""";
            var response = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {answer.Length}\r\nConnection: close\r\n\r\n{answer}";
            await socket.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None);
        }
    }

    /// <summary>Linux's <c>tcp_info.tcpi_data_segs_in</c>: segments with data this connection received.</summary>
    private static int? DataSegmentsIn(Socket socket)
    {
        const int IpProtoTcp = 6, TcpInfo = 11, DataSegsInOffset = 152;
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> info = stackalloc byte[232];
        var length = socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
        return length >= DataSegsInOffset + sizeof(int) ? BitConverter.ToInt32(info[DataSegsInOffset..]) : null;
    }

    private static bool IsComplete(string request)
    {
        var headerEnd = request.IndexOf(HeaderEnd, StringComparison.Ordinal);
        if (headerEnd < 0)
        {
            return false;
        }

        var lengthHeader = request[..headerEnd].Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var length = lengthHeader is null ? 0 : int.Parse(lengthHeader["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return request.Length - headerEnd - HeaderEnd.Length >= length;
    }
}
