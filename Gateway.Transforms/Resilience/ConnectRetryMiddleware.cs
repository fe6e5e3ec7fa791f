using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Transforms.Resilience;

/// <summary>
/// The one retry the gateway makes: when the connection to the chosen destination could not even be opened, so
/// not one byte of the request left, and the request is not pinned to that destination's session, it goes once to
/// another destination. Anything that may have reached an upstream is never sent again.
/// </summary>
internal sealed partial class ConnectRetryMiddleware(RequestDelegate next, ILogger<ConnectRetryMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var candidates = proxy.AvailableDestinations;
        await next(context).ConfigureAwait(false);

        if (!NeverSent(context) || context.Response.HasStarted || context.GetMcpRequest().Session is not null || candidates.Count < 2)
        {
            return;
        }

        var failed = proxy.ProxiedDestination;
        var others = candidates.Where(d => d != failed).ToList();
        if (others.Count == 0)
        {
            return;
        }

        LogRetrying(logger, context.GetMcpRequest().Server, failed?.Model.Config.Address);
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.Clear();
        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }

        proxy.AvailableDestinations = others;
        await next(context).ConfigureAwait(false);
    }

    private static bool NeverSent(HttpContext context) =>
        context.GetForwarderErrorFeature() is { Error: ForwarderError.Request, Exception: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server {Server}: no connection to {Destination}; the request, never sent, goes to another destination.")]
    private static partial void LogRetrying(ILogger logger, string? server, string? destination);
}
