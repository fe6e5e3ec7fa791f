using System.Globalization;
using Gateway.Mcp;
using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Pipeline;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Takes the in-process bridge's "every process is busy" and "the caller has all its sessions" answers as the
/// gateway's own refusals: the client does not see
/// the bridge's marker, and the answer does not count as a failure of the server (its circuit breaker).
/// </summary>
internal sealed class BridgeBusyTransform : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse?.Headers.TryGetValues(StdioBridgeHost.BusyHeader, out var busy) == true)
        {
            context.HttpContext.Response.Headers.Remove(StdioBridgeHost.BusyHeader);
            context.HttpContext.GetMcpRequest().GatewayErrorCode =
                int.TryParse(busy.FirstOrDefault(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) ? code : JsonRpcErrorCodes.ServerBusy;
        }

        return ValueTask.CompletedTask;
    }
}
