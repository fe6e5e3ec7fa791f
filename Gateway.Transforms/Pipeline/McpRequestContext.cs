using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Guard;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.VirtualServers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Transforms.Pipeline;

/// <summary>
/// One request to <c>/mcp/&lt;server&gt;</c>, built once right after routing (a request feature) and read by every
/// later step; <see cref="McpPipeline"/> lists them and says which fills in what.
/// </summary>
/// <remarks>
/// The options are the snapshot in force when the request arrived: a reload of routes.yaml in the middle of a
/// request does not change what it sees.
/// </remarks>
internal sealed class McpRequestContext(string server, McpServerOptions options, GatewayOptions gateway, IPAddress? remoteAddress)
{
    private string? _addressKey;

    /// <summary>The configured server the request is for.</summary>
    public string Server { get; } = server;

    /// <summary>The server's settings.</summary>
    public McpServerOptions Options { get; } = options;

    /// <summary>The gateway-wide settings that routes.yaml can change while running.</summary>
    public GatewayOptions Gateway { get; } = gateway;

    public long StartTimestamp { get; } = Stopwatch.GetTimestamp();

    /// <summary>Who is calling; set once authentication has run (anonymous until then, and for anonymous servers).</summary>
    public McpCaller Caller { get; internal set; } = McpCaller.Anonymous;

    /// <summary>
    /// The caller as per-caller limits know them (rate limits, stdio sessions): <see cref="McpCaller.Id"/>, or for an
    /// anonymous caller a hash of its address: the connection's, or behind <c>gateway.trustedProxies</c> the one they
    /// name. An IPv6 address counts by its /64, which one client holds whole, so that it cannot be many callers.
    /// </summary>
    public string CallerKey => Caller.IsAuthenticated ? Caller.Id : _addressKey ??= Sha256Text.Hex("ip:" + ClientNetwork(remoteAddress), bytes: 16);

    internal static string? ClientNetwork(IPAddress? address)
    {
        if (address is not { AddressFamily: AddressFamily.InterNetworkV6, IsIPv4MappedToIPv6: false })
        {
            return address?.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>A POST's JSON-RPC message, once the guard has read it; null for GET and DELETE.</summary>
    public JsonRpcEnvelope? Envelope { get; internal set; }

    /// <summary>A POST's body, read whole by the guard; the buffer that is forwarded.</summary>
    public PooledRequestBody? Body { get; internal set; }

    /// <summary>The session the request carried, once unsealed; null for requests without one.</summary>
    public PinnedSession? Session { get; internal set; }

    /// <summary>The session id exactly as the client sent it, so answers can echo it unchanged.</summary>
    public string? SealedSessionId { get; internal set; }

    /// <summary>When the request was handed to the upstream; 0 when it never was.</summary>
    public long UpstreamStartTimestamp { get; internal set; }

    /// <summary>Whether the answer is an SSE stream (counted among the open streams until the request ends).</summary>
    public bool EventStream { get; internal set; }

    /// <summary>The rule of the server's lists that refused the request (<c>tools.deny 'delete_*'</c>), for the audit log; null otherwise.</summary>
    public string? PolicyRule { get; internal set; }

    /// <summary>The virtual server whose session sent this request to its member; null for a client's own request.</summary>
    public MemberCallTicket? Via { get; init; }

    /// <summary>The JSON-RPC error code of the gateway's own answer; 0 when the gateway did not answer itself.</summary>
    public int GatewayErrorCode { get; internal set; }
}

/// <summary>Reads the <see cref="McpRequestContext"/> of a request, as YARP's <c>GetReverseProxyFeature()</c> reads its own.</summary>
internal static class McpRequestContextExtensions
{
    /// <summary>The request's context; every step after <see cref="McpRequestContextMiddleware"/> on an MCP route has one.</summary>
    public static McpRequestContext GetMcpRequest(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.GetRequiredFeature<McpRequestContext>();
    }
}
