using System.Runtime.CompilerServices;
using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.Transforms.Guard;

/// <summary>
/// The CORS policy of the MCP endpoints, which ASP.NET Core's CORS middleware applies: the browser origins
/// <see cref="OriginPolicy"/> allows may send MCP's methods and headers and read <c>Mcp-Session-Id</c> and
/// <c>WWW-Authenticate</c>. Built from the routes in force, once per snapshot, so an edit of
/// <c>gateway.allowedOrigins</c> applies to the next request.
/// </summary>
/// <remarks>
/// CORS allows request headers by name, but the 2026-07-28 revision's <c>Mcp-Param-&lt;name&gt;</c> headers are named
/// by each tool. A preflight asking for some gets them added to the fixed list, and only those:
/// <c>AllowAnyHeader</c> would let a page send any header at all. Credentials (cookies) are not allowed: MCP clients
/// send tokens in <c>Authorization</c>, and the gateway drops cookies anyway.
/// </remarks>
internal sealed class McpCorsPolicyProvider(RoutesConfigStore routes, OriginPolicy origins) : ICorsPolicyProvider
{
    /// <summary>The policy name the MCP endpoints (YARP routes, the unknown-server answer, OAuth metadata) carry.</summary>
    public const string PolicyName = "mcp";

    // Saves a preflight per request (every MCP POST needs one). An origin removed from routes.yaml meanwhile is still
    // refused: the actual request passes the Origin check and gets no Access-Control-Allow-Origin.
    private static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    private static readonly string[] Methods = [HttpMethods.Post, HttpMethods.Get, HttpMethods.Delete];

    private static readonly string[] RequestHeaders =
        [HeaderNames.Authorization, HeaderNames.ContentType, McpHeaders.SessionId, McpHeaders.ProtocolVersion, McpHeaders.LastEventId, McpHeaders.Method, McpHeaders.Name];

    // Retry-After and Allow too, so that a page can act on the gateway's 429, 503 and 405 as any client does.
    private static readonly string[] ExposedHeaders = [McpHeaders.SessionId, HeaderNames.WWWAuthenticate, HeaderNames.RetryAfter, HeaderNames.Allow];

    // Keyed by the snapshot itself: a replaced snapshot's policy goes when the last request holding it ends.
    private readonly ConditionalWeakTable<GatewayOptions, CorsPolicy> _policies = new();

    public Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (policyName != PolicyName)
        {
            return Task.FromResult<CorsPolicy?>(null);
        }

        // The request's own snapshot, the one the Origin check reads, so that the two always decide alike.
        var gateway = context.Features.Get<McpRequestContext>()?.Gateway ?? routes.Current.Gateway;
        var policy = _policies.GetOrAdd(gateway, static (gateway, origins) => Build(gateway, origins), origins);
        return Task.FromResult<CorsPolicy?>(HttpMethods.IsOptions(context.Request.Method) ? WithRequestedParameterHeaders(policy, context.Request.Headers) : policy);
    }

    private static CorsPolicy Build(GatewayOptions gateway, OriginPolicy origins) => new CorsPolicyBuilder()
        .SetIsOriginAllowed(origin => origins.IsAllowed(origin, gateway))
        .WithMethods(Methods)
        .WithHeaders(RequestHeaders)
        .WithExposedHeaders(ExposedHeaders)
        .SetPreflightMaxAge(PreflightMaxAge)
        .Build();

    private static CorsPolicy WithRequestedParameterHeaders(CorsPolicy policy, IHeaderDictionary headers)
    {
        // Only preflights (OPTIONS) carry the headers the page means to send.
        string[] parameters = [.. headers.GetCommaSeparatedValues(CorsConstants.AccessControlRequestHeaders).Where(IsParameterHeader)];
        return parameters.Length == 0 ? policy : new CorsPolicyBuilder(policy).WithHeaders(parameters).Build();
    }

    private static bool IsParameterHeader(string name) =>
        name.Length > McpHeaders.ParameterPrefix.Length && name.StartsWith(McpHeaders.ParameterPrefix, StringComparison.OrdinalIgnoreCase);
}
