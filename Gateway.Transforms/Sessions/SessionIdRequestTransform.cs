using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Sessions;

/// <summary>Puts the upstream's own session id back in place of the sealed one the client sent.</summary>
internal sealed class SessionIdRequestTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.HttpContext.GetMcpRequest().Session is { } session)
        {
            RemoveHeader(context, McpHeaders.SessionId);
            AddHeader(context, McpHeaders.SessionId, session.UpstreamSessionId);
        }

        return ValueTask.CompletedTask;
    }
}
