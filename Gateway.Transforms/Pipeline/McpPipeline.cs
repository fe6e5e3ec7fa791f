using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Forwarding;
using Gateway.Transforms.Guard;
using Gateway.Transforms.Limits;
using Gateway.Transforms.Policy;
using Gateway.Transforms.Resilience;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Telemetry;
using Gateway.Transforms.VirtualServers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms.Pipeline;

/// <summary>
/// The request path of an MCP request, every step in the order it runs: ASP.NET Core middleware, YARP's proxy
/// pipeline, the request and response transforms, and the forwarder's HTTP handlers. Read this file top to bottom
/// to follow a request; each step's class says what it does.
/// </summary>
public static class McpPipeline
{
    private const int MaxEchoedNameLength = 64;
    private const string RealIpHeader = "X-Real-IP";

    // Where ASP.NET Core's forwarded-headers middleware keeps the proxy's own address and scheme (gateway.trustedProxies).
    private const string OriginalForHeader = "X-Original-For";
    private const string OriginalProtoHeader = "X-Original-Proto";
    private static readonly string[] McpMethodList = [HttpMethods.Post, HttpMethods.Get, HttpMethods.Delete];
    private static readonly string McpMethods = string.Join(", ", McpMethodList);

    /// <summary>Serves every configured server at <c>/mcp/&lt;name&gt;</c>, and a JSON-RPC 404 for any other name there.</summary>
    public static WebApplication MapMcpServers(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // 1. Middleware. Routing has already matched the request to a server's route (or to none).
        app.UseMiddleware<McpRequestContextMiddleware>(); // the server and its options snapshot, once
        app.UseCors();                                    // preflights answered, before any token or limit; CORS headers (Guard/McpCorsPolicyProvider)
        app.UseMiddleware<McpTelemetryMiddleware>();      // metrics and audit of every MCP request, refused ones included
        app.UseMiddleware<OriginCheckMiddleware>();       // foreign browser origins: 403, before any challenge
        app.UseAuthentication();                          // the bearer token, for the server's audience (InboundAuth)
        app.UseMiddleware<McpCallerMiddleware>();         // who is calling, once
        app.UseAuthorization();                           // the server's scopes and roles; 401/403 with the challenge
        app.UseVirtualServerSteps();                      // a virtual server's own requests: the guard and its rate limits (VirtualServers/)

        // 2. Endpoints: configured servers are literal routes of MCP's methods and win; then the virtual servers, which the
        // gateway serves itself with the C# SDK; anything else under /mcp/ is an unknown server, or a method MCP does not use.
        app.MapVirtualServers(app.Services.GetRequiredService<RoutesConfigStore>().Startup.Auth is not null);
        app.Map("/mcp/{**server}", NotAServerMethod).RequireCors(McpCorsPolicyProvider.PolicyName); // so that a browser client can read why
        // The virtual servers' endpoints are of MCP's methods, and routing sends a preflight for one of those only to
        // endpoints of that method: so that CORS answers it at any /mcp/ path, unknown servers' too, so is this one.
        app.MapMethods("/mcp/{**server}", McpMethodList, NotAServerMethod)
            .WithMetadata(new HttpMethodMetadata(McpMethodList, acceptCorsPreflight: true))
            .RequireCors(McpCorsPolicyProvider.PolicyName);
        app.MapReverseProxy(UseProxySteps);
        return app;
    }

    private static Task NotAServerMethod(HttpContext context, string? server, RoutesConfigStore routes)
    {
        if (server is not null && routes.Current.Servers.ContainsKey(server))
        {
            context.Response.Headers.Allow = McpMethods;
            return JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status405MethodNotAllowed, JsonRpcErrorCodes.InvalidRequest,
                $"{EchoedText.Of(context.Request.Method, MaxEchoedNameLength)} is not a method of MCP's HTTP transport: use {McpMethods}.");
        }

        return JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status404NotFound, JsonRpcErrorCodes.UnknownServer,
            $"Unknown MCP server '{EchoedText.Of(server, MaxEchoedNameLength)}'. GET /api/v1/services lists the servers this gateway serves.");
    }

    /// <summary>3. YARP's proxy pipeline, for a request of a configured server.</summary>
    private static void UseProxySteps(IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.UseMiddleware<UpstreamErrorMiddleware>();    // YARP's bodiless failures below become JSON-RPC errors
        pipeline.UseMiddleware<McpRequestGuardMiddleware>();  // ASCII headers, body size, one JSON-RPC message, header mismatch
        pipeline.UseMiddleware<AccessListMiddleware>();       // tools, resources, prompts the lists or rules refuse; tools that pinning holds back
        pipeline.UseMiddleware<RateLimitMiddleware>();        // the caller's buckets for the server and the tool
        pipeline.UseMiddleware<SessionPinningMiddleware>();   // a sealed session id pins its destination
        pipeline.UseMiddleware<ConnectRetryMiddleware>();     // once more elsewhere, only when no connection opened
        pipeline.UseMiddleware<CircuitFilterMiddleware>();    // destinations whose circuit is open leave the choice
        pipeline.UseLoadBalancing();
        pipeline.UseMiddleware<CircuitGuardMiddleware>();     // the chosen destination's breaker learns from the outcome
        pipeline.UsePassiveHealthChecks();
        // Then YARP's forwarder: the transforms of AddTransforms, the handlers of WrapHandlers.
    }

    /// <summary>4. The transforms of every MCP route; requests run the request transforms in this order, answers the response ones.</summary>
    internal static void AddTransforms(TransformBuilderContext context, McpTransforms transforms)
    {
        // The gateway's address for the server is /mcp/<name>; the destination's address is the whole upstream endpoint.
        context.AddPathRemovePrefix(new PathString(context.Route.Match.Path));

        // The caller's credentials and cookies are for the gateway, never for an upstream; nor is an address it claims
        // (X-Forwarded-For, set below, says whom the gateway takes the caller for).
        context.AddRequestHeaderRemove(HeaderNames.Authorization);
        context.AddRequestHeaderRemove(HeaderNames.Cookie);
        context.AddRequestHeaderRemove(RealIpHeader);
        context.AddRequestHeaderRemove(OriginalForHeader);
        context.AddRequestHeaderRemove(OriginalProtoHeader);
        context.AddRequestHeaderRemove(MemberCallEndpoint.TicketHeader);
        context.RequestTransforms.Add(transforms.ConnectionNominatedRequest);
        context.RequestTransforms.Add(transforms.StaticHeaders);  // servers.<name>.headers, after the caller's own were removed
        context.RequestTransforms.Add(transforms.UpstreamToken);  // upstreamAuth; when no token can be had, answers the caller
        context.RequestTransforms.Add(transforms.SessionIdRequest);

        // YARP's defaults (the destination's Host, X-Forwarded-*), added here so that YARP appends nothing after the last step.
        context.AddOriginalHost(useOriginal: false);
        context.AddXForwarded();
        context.UseDefaultForwarders = false;
        context.RequestTransforms.Add(transforms.UpstreamCallStart); // last: the upstream's time starts here

        context.AddResponseHeaderRemove(HeaderNames.SetCookie, ResponseCondition.Always);
        context.ResponseTransforms.Add(transforms.ConnectionNominatedResponse);
        context.ResponseTransforms.Add(transforms.BridgeBusy);                // the bridge's "all busy" is the gateway's refusal
        context.ResponseTransforms.Add(transforms.SessionIdResponse);
        context.ResponseTransforms.Add(transforms.ListFilter);       // list answers: only what the lists, rules and tool pins allow
        context.ResponseTransforms.Add(transforms.EventStreamStart); // last: it may send the headers, after which none can change
    }

    /// <summary>5. The forwarder's HTTP handlers, outermost first, around YARP's <see cref="SocketsHttpHandler"/>.</summary>
    internal static HttpMessageHandler WrapHandlers(HttpMessageHandler handler, CancellationToken streamsClosing) =>
        new SingleWriteRequestHandler(new StreamEndingHandler(handler, streamsClosing));
}
