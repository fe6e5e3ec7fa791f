using System.Diagnostics;
using Gateway.Transforms.Pipeline;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Telemetry;

/// <summary>Notes when the request leaves for the upstream; the last request transform, so the IdP's time is not counted.</summary>
internal sealed class UpstreamCallStartTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.HttpContext.GetMcpRequest().UpstreamStartTimestamp = Stopwatch.GetTimestamp();
        return ValueTask.CompletedTask;
    }
}
