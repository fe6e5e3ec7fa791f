using System.Globalization;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy.Forwarding;

/// <summary>YARP's client factory, plus the per-server connect timeout from routes.yaml and single-write requests.</summary>
internal sealed class McpForwarderHttpClientFactory : ForwarderHttpClientFactory
{
    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context) && ConnectTimeout(context.OldMetadata) == ConnectTimeout(context.NewMetadata);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (ConnectTimeout(context.NewMetadata) is { } timeout)
        {
            handler.ConnectTimeout = timeout;
        }
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new SingleWriteRequestHandler(base.WrapHandler(context, handler));

    private static TimeSpan? ConnectTimeout(IReadOnlyDictionary<string, string>? metadata) =>
        metadata?.TryGetValue(McpProxyConfigProvider.ConnectTimeoutMetadata, out var value) == true
            ? TimeSpan.ParseExact(value, "c", CultureInfo.InvariantCulture)
            : null;
}
