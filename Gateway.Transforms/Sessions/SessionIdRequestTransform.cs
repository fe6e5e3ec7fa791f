using Gateway.Transforms.Mcp;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Sessions;

/// <summary>Puts the upstream's own session id back in place of the sealed one the client sent.</summary>
public sealed class SessionIdRequestTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.HttpContext.Features.Get<McpSessionFeature>() is { } pinned)
        {
            RemoveHeader(context, McpHeaders.SessionId);
            AddHeader(context, McpHeaders.SessionId, pinned.Session.UpstreamSessionId);
        }

        return ValueTask.CompletedTask;
    }
}
