using System.Collections.Frozen;
using Gateway.Mcp;
using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Pipeline;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Sets a server's <c>headers:</c> on every request to its upstream, replacing any the caller sent, and for a stdio
/// server the in-process bridge's access key and who the caller is (for its per-caller session limit). Runs after the
/// caller's own credentials were removed, so a configured <c>Authorization</c> reaches the upstream.
/// </summary>
internal sealed class StaticHeadersTransform(UpstreamAddresses addresses) : RequestTransform
{
    /// <summary>Headers the transport, the MCP protocol or the gateway own; a static value for them would break forwarding or sessions.</summary>
    public static readonly FrozenSet<string> Reserved = new[]
    {
        HeaderNames.Host, HeaderNames.ContentLength, HeaderNames.ContentType, HeaderNames.TransferEncoding, HeaderNames.Connection,
        HeaderNames.Upgrade, HeaderNames.KeepAlive, HeaderNames.TE, HeaderNames.Accept,
        McpHeaders.SessionId, McpHeaders.ProtocolVersion, McpHeaders.Method, McpHeaders.Name, McpHeaders.LastEventId,
        UpstreamAddresses.BridgeAccessKeyHeader, StdioBridgeHost.CallerHeader,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetMcpRequest();
        var options = request.Options;
        if (options.Headers.Count > 0)
        {
            foreach (var (name, value) in options.Headers)
            {
                RemoveHeader(context, name);
                AddHeader(context, name, value);
            }
        }

        // By the destination, not the options: a request routed before a reload turned the server into a stdio one
        // still goes to its old upstream, which must never see the key.
        if (addresses.BridgeAccessKey is { } key && addresses.IsBridge(context.DestinationPrefix))
        {
            RemoveHeader(context, UpstreamAddresses.BridgeAccessKeyHeader);
            AddHeader(context, UpstreamAddresses.BridgeAccessKeyHeader, key);
            RemoveHeader(context, StdioBridgeHost.CallerHeader);
            if (request.Envelope?.Method == "initialize")
            {
                // Only a new session counts against the caller's limit; the key is not worked out for other requests.
                AddHeader(context, StdioBridgeHost.CallerHeader, request.CallerKey);
            }
        }

        return ValueTask.CompletedTask;
    }
}
