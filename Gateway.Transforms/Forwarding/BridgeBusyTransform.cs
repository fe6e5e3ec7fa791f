using System.Globalization;
using Gateway.Mcp;
using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Takes the in-process bridge's "every process is busy" and "the caller has all its sessions" answers as the
/// gateway's own refusals: the client does not see the bridge's marker, and the answer does not count as a failure
/// of the server (its circuit breaker). Only the bridge's marker counts, and only with one of those two codes: from
/// any other upstream it is dropped, so that no upstream can keep its failures from its breaker or name the codes
/// the gateway's metrics count.
/// </summary>
internal sealed class BridgeBusyTransform(UpstreamAddresses addresses) : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse is null || !context.ProxyResponse.Headers.TryGetValues(StdioBridgeHost.BusyHeader, out var busy))
        {
            return ValueTask.CompletedTask;
        }

        context.HttpContext.Response.Headers.Remove(StdioBridgeHost.BusyHeader);
        var destination = context.HttpContext.GetReverseProxyFeature().ProxiedDestination?.Model.Config.Address;
        if (destination is not null && addresses.IsBridge(destination)
            && int.TryParse(busy.FirstOrDefault(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code)
            && code is JsonRpcErrorCodes.ServerBusy or JsonRpcErrorCodes.RateLimited)
        {
            context.HttpContext.GetMcpRequest().GatewayErrorCode = code;
        }

        return ValueTask.CompletedTask;
    }
}
