using System.Security.Cryptography;
using System.Text;
using Gateway.Mcp;
using Microsoft.AspNetCore.Http;

namespace Gateway.StdioBridge.Hosting;

/// <summary>
/// Refuses requests that do not carry the bridge's access key (compared in constant time). Only such a request, from
/// the gateway, may say who its caller is (<see cref="StdioBridgeHost.CallerHeader"/>).
/// </summary>
internal sealed class AccessKeyMiddleware(RequestDelegate next, string accessKey)
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes(accessKey);

    public Task InvokeAsync(HttpContext context)
    {
        var given = Encoding.UTF8.GetBytes(context.Request.Headers[StdioBridgeHost.AccessKeyHeader].ToString());
        if (!CryptographicOperations.FixedTimeEquals(given, _expected))
        {
            return JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status403Forbidden, JsonRpcErrorCodes.BridgeAccessDenied,
                "This bridge serves the gateway only.");
        }

        if (context.Request.Headers[StdioBridgeHost.CallerHeader].ToString() is { Length: > 0 } caller)
        {
            context.Items[StdioBridgeHost.CallerHeader] = caller;
        }

        return next(context);
    }
}
