using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Transforms.Resilience;

/// <summary>
/// Before load balancing: destinations whose circuit is open are taken out of the choice. A pinned session has no
/// other choice and is refused, as is a request when every destination is open. Nothing is sent to an open destination.
/// </summary>
internal sealed class CircuitFilterMiddleware(RequestDelegate next, DestinationCircuitBreakers breakers)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetMcpRequest();
        var options = request.Options.CircuitBreaker;
        if (!options.Enabled)
        {
            return next(context);
        }

        var proxy = context.GetReverseProxyFeature();
        var available = proxy.AvailableDestinations;
        List<DestinationState>? admitted = null;
        var retryAfter = TimeSpan.MaxValue;
        for (var i = 0; i < available.Count; i++)
        {
            var breaker = breakers.For(request.Server, available[i].Model.Config.Address, options);
            if (breaker.Admits)
            {
                admitted?.Add(available[i]);
                continue;
            }

            // The first refused destination: from here on, collect the others that admit.
            admitted ??= [.. available.Take(i)];
            retryAfter = breaker.RetryAfter < retryAfter ? breaker.RetryAfter : retryAfter;
        }

        if (admitted is null)
        {
            return next(context);
        }

        if (admitted.Count == 0)
        {
            return CircuitOpenResponse.WriteAsync(context, request.Server, retryAfter);
        }

        proxy.AvailableDestinations = admitted;
        return next(context);
    }
}

/// <summary>After load balancing: the request passes the chosen destination's breaker, which learns from how it ended.</summary>
internal sealed class CircuitGuardMiddleware(RequestDelegate next, DestinationCircuitBreakers breakers)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetMcpRequest();
        var proxy = context.GetReverseProxyFeature();
        if (!request.Options.CircuitBreaker.Enabled || proxy.AvailableDestinations.Count != 1)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var breaker = breakers.For(request.Server, proxy.AvailableDestinations[0].Model.Config.Address, request.Options.CircuitBreaker);
        try
        {
            await breaker.Pipeline.ExecuteAsync(
                static async (state, _) =>
                {
                    await state.next(state.context).ConfigureAwait(false);
                    return UpstreamFailed(state.context, state.request);
                },
                (next, context, request),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (BrokenCircuitException)
        {
            // Open, or half-open with its one probe already under way.
            await CircuitOpenResponse.WriteAsync(context, request.Server, breaker.RetryAfter).ConfigureAwait(false);
        }
    }

    /// <summary>Transport failures, timeouts and 5xx from the upstream count; 4xx, client aborts and the gateway's own answers do not.</summary>
    private static bool UpstreamFailed(HttpContext context, McpRequestContext request)
    {
        var error = context.GetForwarderErrorFeature()?.Error ?? ForwarderError.None;
        return error switch
        {
            ForwarderError.None => context.Response.StatusCode >= StatusCodes.Status500InternalServerError && request.GatewayErrorCode == 0,
            ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestBodyDestination
                or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination or ForwarderError.UpgradeResponseDestination => true,
            _ => false,
        };
    }
}

/// <summary>The answer while a server's circuit is open: 503, <c>Retry-After</c> and a JSON-RPC error.</summary>
internal static class CircuitOpenResponse
{
    public static Task WriteAsync(HttpContext context, string server, TimeSpan retryAfter)
    {
        RetryAfter.Set(context.Response, retryAfter);
        return McpErrorResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, JsonRpcErrorCodes.UpstreamCircuitOpen,
            $"Upstream server '{server}' is failing and the gateway stopped sending to it for a while. Try again after the Retry-After delay.");
    }
}
