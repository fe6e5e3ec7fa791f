using Gateway.Mcp;
using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Pipeline;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Takes the in-process bridge's "every process is busy" answer as the gateway's own refusal: the client does not see
/// the bridge's marker, and the answer does not count as a failure of the server (its circuit breaker).
/// </summary>
internal sealed class BridgeBusyTransform : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse?.Headers.Contains(StdioBridgeHost.BusyHeader) == true)
        {
            context.HttpContext.Response.Headers.Remove(StdioBridgeHost.BusyHeader);
            context.HttpContext.GetMcpRequest().GatewayErrorCode = JsonRpcErrorCodes.ServerBusy;
        }

        return ValueTask.CompletedTask;
    }
}
