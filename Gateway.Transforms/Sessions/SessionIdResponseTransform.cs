using Gateway.Transforms.Mcp;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Sessions;

/// <summary>Replaces a session id issued by the upstream with a sealed one naming the destination and the caller.</summary>
/// <remarks>When the upstream repeats the id of the session the request was pinned to, the client's id is echoed unchanged.</remarks>
public sealed class SessionIdResponseTransform(SessionIdSealer sealer, string server) : ResponseTransform
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
        var pinned = http.Features.Get<McpSessionFeature>();
        http.Response.Headers[McpHeaders.SessionId] = pinned is not null && pinned.Session.UpstreamSessionId == upstreamId
            ? pinned.SealedId
            : sealer.Seal(server, http.GetReverseProxyFeature().ProxiedDestination!.Model.Config.Address, upstreamId, CallerIdentity.Of(http));
        return ValueTask.CompletedTask;
    }
}
