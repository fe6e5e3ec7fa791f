using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Drops the headers a hop names in its <c>Connection</c> header (RFC 9110 §7.6.1): they are meant for that hop only.
/// YARP already drops the standard hop-by-hop headers and <c>Connection</c> itself, but not the ones it nominates.
/// </summary>
internal sealed class ConnectionNominatedRequestHeadersTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var connection = context.HttpContext.Request.Headers[HeaderNames.Connection];
        if (connection.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        // RemoveHeader, not the proxy request's headers: YARP copies the caller's headers after the transforms have
        // run, unless one of them asked for the copy earlier, so only the helper removes a header in either case.
        foreach (var token in ConnectionNominatedHeaders.Tokens(connection))
        {
            RemoveHeader(context, token);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>The response-side twin of <see cref="ConnectionNominatedRequestHeadersTransform"/>.</summary>
internal sealed class ConnectionNominatedResponseHeadersTransform : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse?.Headers.TryGetValues(HeaderNames.Connection, out var nominated) == true)
        {
            foreach (var token in ConnectionNominatedHeaders.Tokens(new StringValues([.. nominated])))
            {
                context.HttpContext.Response.Headers.Remove(token);
            }
        }

        return ValueTask.CompletedTask;
    }
}

internal static class ConnectionNominatedHeaders
{
    /// <summary>Every header name of every <c>Connection</c> value.</summary>
    public static IEnumerable<string> Tokens(StringValues connection)
    {
        foreach (var value in connection)
        {
            foreach (var token in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                yield return token;
            }
        }
    }
}
