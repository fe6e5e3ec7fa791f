using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;

namespace Gateway.Transforms.Sessions;

/// <summary>
/// Sends a request that carries a sealed session id to the destination that created the session, whatever its
/// health or the load balancer's choice; answers 404 for ids that are not the caller's or whose home is gone.
/// </summary>
/// <remarks>Runs in YARP's proxy pipeline before load balancing; requests without a session id pass untouched.</remarks>
internal sealed partial class SessionPinningMiddleware(RequestDelegate next, SessionIdSealer sealer, ILogger<SessionPinningMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var sealedId = context.Request.Headers[McpHeaders.SessionId];
        if (sealedId.Count == 0)
        {
            return next(context);
        }

        var request = context.GetMcpRequest();
        var outcome = sealer.TryUnseal(sealedId.ToString(), request.Server, request.Caller, out var session);
        if (outcome != UnsealOutcome.Valid)
        {
            LogSessionRejected(logger, request.Server, outcome);
            return SessionNotFound(context);
        }

        var proxy = context.GetReverseProxyFeature();
        var destination = FindDestination(proxy.AllDestinations, session!.Destination);
        if (destination is null)
        {
            LogSessionDestinationGone(logger, request.Server, session.Destination);
            return SessionNotFound(context);
        }

        proxy.AvailableDestinations = destination;
        request.Session = session;
        request.SealedSessionId = sealedId.ToString();
        return next(context);
    }

    private static DestinationState? FindDestination(IReadOnlyList<DestinationState> destinations, string address)
    {
        foreach (var destination in destinations)
        {
            if (string.Equals(destination.Model.Config.Address, address, StringComparison.Ordinal))
            {
                return destination;
            }
        }

        return null;
    }

    private static Task SessionNotFound(HttpContext context) => McpErrorResponse.WriteAsync(
        context,
        StatusCodes.Status404NotFound,
        JsonRpcErrorCodes.SessionNotFound,
        "Session not found: the Mcp-Session-Id is unknown, expired or not yours. Start a new session with initialize.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected a session id for server {Server}: {Outcome}.")]
    private static partial void LogSessionRejected(ILogger logger, string server, UnsealOutcome outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session for server {Server} belongs to destination {Destination}, which is no longer configured.")]
    private static partial void LogSessionDestinationGone(ILogger logger, string server, string destination);
}
