using System.Net.Http.Headers;
using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>
/// Gives the upstream request the credentials its server's <c>upstreamAuth</c> asks for. Runs after the caller's
/// <c>Authorization</c> header was removed; when no token can be had, answers the caller and nothing is forwarded.
/// </summary>
internal sealed class UpstreamTokenTransform(UpstreamTokenCache cache) : RequestTransform
{
    private const string BearerPrefix = "Bearer ";

    public override async ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        var request = http.GetMcpRequest();
        var options = request.Options.UpstreamAuth;
        if (options.Strategy == UpstreamAuthStrategy.None)
        {
            return;
        }

        var callerToken = BearerTokenOf(http.Request);
        if (options.Strategy == UpstreamAuthStrategy.Passthrough)
        {
            if (callerToken is not null)
            {
                context.ProxyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", callerToken);
            }

            return;
        }

        var token = await cache.GetAsync(new UpstreamTokenRequest(request.Server, options, http.User, request.Caller, callerToken), http.RequestAborted).ConfigureAwait(false);
        if (token.Succeeded)
        {
            context.ProxyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken);
            return;
        }

        // A refusal will not pass on retry (502); an IdP outage may (503 with Retry-After). Either way YARP sees the
        // answer and does not forward.
        var status = token.Failure == UpstreamTokenFailure.Refused ? StatusCodes.Status502BadGateway : StatusCodes.Status503ServiceUnavailable;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            RetryAfter.Set(http.Response, RetryAfter.Unknown);
        }

        await McpErrorResponse.WriteAsync(http, status, JsonRpcErrorCodes.UpstreamTokenUnavailable, token.Error!).ConfigureAwait(false);
    }

    private static string? BearerTokenOf(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.Authorization].ToString();
        return header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) && header.Length > BearerPrefix.Length
            ? header[BearerPrefix.Length..].Trim()
            : null;
    }
}
