using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>An upstream that dies mid-call: reads a request's headers, counts it, and resets the connection unanswered.</summary>
public sealed class ResettingUpstream : RawTcpUpstream
{
    private int _requests;

    /// <summary>Requests that arrived (their headers were read).</summary>
    public int Requests => Volatile.Read(ref _requests);

    protected override async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var received = new StringBuilder();
            var buffer = new byte[4096];
            while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    return;
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            Interlocked.Increment(ref _requests);

            // Linger 0: close with RST, as a crashed process's connection ends.
            socket.LingerState = new LingerOption(true, 0);
        }
    }
}
