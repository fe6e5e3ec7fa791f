using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Sessions;

/// <summary>Replaces a session id issued by the upstream with a sealed one naming the destination and the caller.</summary>
/// <remarks>When the upstream repeats the id of the session the request was pinned to, the client's id is echoed unchanged.</remarks>
internal sealed class SessionIdResponseTransform(SessionIdSealer sealer) : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var upstreamId = context.ProxyResponse?.Headers.TryGetValues(McpHeaders.SessionId, out var values) == true
            ? values.FirstOrDefault()
            : null;
        if (string.IsNullOrEmpty(upstreamId))
        {
            return ValueTask.CompletedTask;
        }

        var http = context.HttpContext;
        var request = http.GetMcpRequest();
        http.Response.Headers[McpHeaders.SessionId] = request.Session is { } pinned && pinned.UpstreamSessionId == upstreamId
            ? request.SealedSessionId
            : sealer.Seal(request.Server, http.GetReverseProxyFeature().ProxiedDestination!.Model.Config.Address, upstreamId, request.Caller);
        return ValueTask.CompletedTask;
    }
}
