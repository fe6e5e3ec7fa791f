using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Proxy.Stdio;

/// <summary>
/// The gateway's logging, as the in-process bridge gets it: without the host's "Now listening on" lines, which would
/// read as the gateway's own address; the gateway names the bridge's address itself (<c>GatewayStartLog</c>).
/// </summary>
internal sealed class BridgeLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string HostLifetimeCategory = "Microsoft.Hosting.Lifetime";

    public ILogger CreateLogger(string categoryName) =>
        categoryName == HostLifetimeCategory ? NullLogger.Instance : inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The gateway's factory belongs to the gateway's host, which disposes it.
    public void Dispose()
    {
    }
}
