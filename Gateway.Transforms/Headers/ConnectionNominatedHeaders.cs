using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Headers;

/// <summary>
/// Drops the headers a hop names in its <c>Connection</c> header (RFC 9110 §7.6.1): they are meant for that hop only.
/// YARP already drops the standard hop-by-hop headers and <c>Connection</c> itself, but not the ones it nominates.
/// </summary>
public sealed class ConnectionNominatedRequestHeadersTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ConnectionNominatedHeaders.Remove(context.HttpContext.Request.Headers[HeaderNames.Connection], context.ProxyRequest.Headers, context.ProxyRequest.Content?.Headers);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The response-side twin of <see cref="ConnectionNominatedRequestHeadersTransform"/>.</summary>
public sealed class ConnectionNominatedResponseHeadersTransform : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse?.Headers.TryGetValues(HeaderNames.Connection, out var nominated) == true)
        {
            foreach (var value in nominated)
            {
                foreach (var token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    context.HttpContext.Response.Headers.Remove(token);
                }
            }
        }

        return ValueTask.CompletedTask;
    }
}

internal static class ConnectionNominatedHeaders
{
    public static void Remove(StringValues connection, HttpHeaders target, HttpHeaders? contentTarget)
    {
        foreach (var value in connection)
        {
            foreach (var token in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                target.Remove(token);
                contentTarget?.Remove(token);
            }
        }
    }
}
