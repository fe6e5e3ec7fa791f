using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>Loopback ports nobody listens on, for servers started by tests and for "upstream down" cases.</summary>
/// <remarks>
/// A port is handed out now and bound later, and some tests bind it twice (an upstream restarted on its port). The
/// ports the kernel gives to bind(0) and to outgoing connections come from its ephemeral range, so a port freed there
/// can be taken in between by any connection the test run opens. On Linux the ports come from below that range,
/// where nothing takes one unasked; elsewhere the kernel picks.
/// </remarks>
public static class UpstreamPort
{
    private const int Span = 8000;
    private const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    private static readonly int? FirstPort = BelowEphemeralRange();
    private static int _next = Random.Shared.Next(Span);

    public static int Free()
    {
        if (FirstPort is { } first)
        {
            for (var attempt = 0; attempt < Span; attempt++)
            {
                var port = first + (Interlocked.Increment(ref _next) % Span);
                if (CanBind(port))
                {
                    return port;
                }
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int? BelowEphemeralRange()
    {
        if (!File.Exists(EphemeralRangeFile))
        {
            return null;
        }

        var ephemeralStart = int.Parse(File.ReadAllText(EphemeralRangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        return ephemeralStart - Span > 1024 ? ephemeralStart - Span : null;
    }
}
