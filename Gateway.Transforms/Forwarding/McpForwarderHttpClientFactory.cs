using System.Globalization;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.Shutdown;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// YARP's client factory, plus the per-server connect timeout from routes.yaml, single-write requests, and GET streams
/// that end when the gateway shuts down.
/// </summary>
internal sealed class McpForwarderHttpClientFactory(GracefulShutdown shutdown) : ForwarderHttpClientFactory
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
        McpPipeline.WrapHandlers(base.WrapHandler(context, handler), shutdown.StreamsClosing);

    private static TimeSpan? ConnectTimeout(IReadOnlyDictionary<string, string>? metadata) =>
        metadata?.TryGetValue(McpProxyConfigProvider.ConnectTimeoutMetadata, out var value) == true
            ? TimeSpan.ParseExact(value, "c", CultureInfo.InvariantCulture)
            : null;
}
