using System.Security.Cryptography;
using System.Text;
using Gateway.Mcp;
using Microsoft.AspNetCore.Http;

namespace Gateway.StdioBridge.Hosting;

/// <summary>Refuses requests that do not carry the bridge's access key (compared in constant time).</summary>
internal sealed class AccessKeyMiddleware(RequestDelegate next, string accessKey)
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes(accessKey);

    public Task InvokeAsync(HttpContext context)
    {
        var given = Encoding.UTF8.GetBytes(context.Request.Headers[StdioBridgeHost.AccessKeyHeader].ToString());
        return CryptographicOperations.FixedTimeEquals(given, _expected)
            ? next(context)
            : JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status403Forbidden, JsonRpcErrorCodes.BridgeAccessDenied,
                "This bridge serves the gateway only.");
    }
}
