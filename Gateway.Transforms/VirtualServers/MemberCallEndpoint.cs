using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// Where a virtual server's requests to its members enter the gateway: a Unix socket of Kestrel's, in a folder only
/// the gateway's user can open, so that each crosses the member's own route (its token, policy, limits, breaker,
/// metrics, audit) exactly as a direct client's request does.
/// </summary>
/// <remarks>
/// Such a request carries the caller's own token, which the member route validates again, and a ticket of the
/// virtual session: the ticket says which virtual server accepted the token, so that its audience is taken, and for
/// whom limits count. A ticket is known only in this process and honoured only on this socket.
/// </remarks>
public sealed class MemberCallEndpoint : IDisposable
{
    /// <summary>The header that carries a virtual session's ticket; removed before anything is forwarded.</summary>
    public const string TicketHeader = "X-Mcp-Gateway-Member-Call";

    private readonly DirectoryInfo _directory = CreateDirectory();
    private readonly ConcurrentDictionary<string, MemberCallTicket> _tickets = new(StringComparer.Ordinal);

    /// <summary>The address members are called at; only the socket matters, the host is for the logs.</summary>
    public static Uri BaseAddress { get; } = new("http://gateway.members/");

    public string SocketPath => Path.Combine(_directory.FullName, "members.sock");

    /// <summary>The URL Kestrel listens on, beside the gateway's own.</summary>
    public string ListenUrl => "http://unix:" + SocketPath;

    /// <summary>A handler whose connections go to the socket.</summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        UseProxy = false,
        AllowAutoRedirect = false,
    };

    public MemberCallTicket Issue(string virtualServer, string? audience)
    {
        var ticket = new MemberCallTicket(Convert.ToHexString(RandomNumberGenerator.GetBytes(32)), virtualServer, audience);
        _tickets[ticket.Id] = ticket;
        return ticket;
    }

    public void Revoke(MemberCallTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        _tickets.TryRemove(ticket.Id, out _);
    }

    /// <summary>The ticket of a request that came over the socket with one the gateway issued; null for any other request.</summary>
    public MemberCallTicket? TicketOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // A TCP connection always has a local address; the socket's has none.
        if (context.Connection.LocalIpAddress is not null || !context.Request.Headers.TryGetValue(TicketHeader, out var id))
        {
            return null;
        }

        return _tickets.GetValueOrDefault(id.ToString());
    }

    // Readable and writable by the gateway's user alone (CreateTempSubdirectory makes it 0700 on Unix).
    private static DirectoryInfo CreateDirectory()
    {
        try
        {
            return Directory.CreateTempSubdirectory("mcp-gateway-");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The gateway needs a writable temporary folder for the socket through which virtual servers call their members, and '{Path.GetTempPath()}' is not: {ex.Message} Set TMPDIR to one (in a container, mount a tmpfs or emptyDir at /tmp).", ex);
        }
    }

    public void Dispose()
    {
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Left in the temporary folder; nothing reads it once the gateway has stopped.
        }
    }
}

/// <summary>A virtual session's ticket: the virtual server, the audience it accepted, and the client's address.</summary>
public sealed class MemberCallTicket(string id, string virtualServer, string? audience)
{
    public string Id { get; } = id;

    public string VirtualServer { get; } = virtualServer;

    /// <summary>The audience the virtual server accepted the caller's token for; null when it needs none.</summary>
    public string? Audience { get; } = audience;

    /// <summary>The client's address at its latest request, for whom per-caller limits of an anonymous caller count.</summary>
    public IPAddress? ClientAddress { get; set; }
}
