using Gateway.Transforms.Configuration;
using Gateway.Transforms.Forwarding;
using ModelContextProtocol.Client;

namespace Gateway.Proxy.Api;

/// <summary>Checks an upstream the way a client would: an MCP handshake (discover or initialize), then a ping.</summary>
internal sealed partial class McpUpstreamProbe(IHttpClientFactory httpClients, UpstreamAddresses addresses, ILoggerFactory loggerFactory, TimeProvider timeProvider)
{
    public const string HttpClientName = "mcp-probe";
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    public async Task<DestinationProbe> ProbeAsync(McpServerOptions server, string url, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        var started = timeProvider.GetTimestamp();
        try
        {
            var transport = new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = new Uri(url),
                    TransportMode = HttpTransportMode.StreamableHttp,
                    EnableStandaloneGetStream = false,
                    AdditionalHeaders = addresses.HeadersOf(server).ToDictionary(),
                    Name = "gateway-health-probe",
                },
                httpClients.CreateClient(HttpClientName),
                loggerFactory);
            await using var client = await McpClient.CreateAsync(transport, new McpClientOptions(), loggerFactory, timeout.Token).ConfigureAwait(false);
            await client.PingAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
            var elapsed = timeProvider.GetElapsedTime(started).TotalMilliseconds;
            return new DestinationProbe(url, true, elapsed, client.NegotiatedProtocolVersion, client.ServerInfo?.Name, client.ServerInfo?.Version, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var error = ex is OperationCanceledException ? $"No answer within {ProbeTimeout.TotalSeconds} s." : ex.Message;
            return new DestinationProbe(url, false, timeProvider.GetElapsedTime(started).TotalMilliseconds, null, null, null, error);
        }
    }
}
