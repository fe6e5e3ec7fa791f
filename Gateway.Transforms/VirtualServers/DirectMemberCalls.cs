using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using ModelContextProtocol.Protocol;
using Yarp.ReverseProxy.Model;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// Sends a virtual session's <c>tools/call</c> down its member's route within the same request once the member's
/// session is open: the member's own steps all run (its metrics and audit, policy and pins, limits, session,
/// breaker, upstream token), and the SDK's server and client and a second trip through Kestrel are saved.
/// </summary>
/// <remarks>
/// Calls of a client that offers members requests of its own (elicitation, sampling, roots) take the SDK's path,
/// which relays those; so do 2026-07-28 calls, which have no session, and everything but <c>tools/call</c>. The
/// member's answer, progress included, streams to the client as the member sent it; only the member's session id
/// is taken off.
/// </remarks>
internal sealed class DirectMemberCalls(
    VirtualServerSessions sessions, RoutesConfigStore routes, EndpointDataSource endpoints, IAuthorizationService authorization, IServiceProvider services)
{
    private RequestDelegate? _memberSteps;
    private RouteEndpoints? _routes;

    /// <summary>Runs the call on the member's route and returns true; false when it must take the SDK's path.</summary>
    public async Task<bool> TryCallAsync(HttpContext context)
    {
        var request = context.GetMcpRequest();
        if (request.Envelope is not { Kind: JsonRpcMessageKind.Request, Method: "tools/call", Name: { } name } || request.Body is not { } body
            || context.Request.Headers[McpHeaders.SessionId].ToString() is not { Length: > 0 } sessionId
            || sessions.SessionOf(sessionId, request) is not { OffersClientRequests: false } session
            || !TryResolve(session, name, out var member, out var tool)
            || session.OpenSessionOf(member) is not { } memberSession
            || !routes.Current.Servers.TryGetValue(member, out var memberOptions)
            || RouteOf(member) is not { } route
            || RenamedCall(body.Memory, tool) is not { } renamed)
        {
            return false;
        }

        var memberRequest = new McpRequestContext(member, memberOptions, request.Gateway, context.Connection.RemoteIpAddress) { Via = session.Ticket, Caller = request.Caller };
        context.Features.Set(memberRequest);
        if (memberOptions.Auth.RequiresToken(routes.Startup.Auth)
            && !(await authorization.AuthorizeAsync(context.User, context, McpServerPolicyProvider.PolicyNameOf(member)).ConfigureAwait(false)).Succeeded)
        {
            // The SDK's path asks the member's route, which answers why.
            context.Features.Set(request);
            return false;
        }

        session.Touch(context);
        var http = context.Request;
        http.Path = McpRouteMetadata.PathOf(member);
        http.Body = new MemoryStream(renamed, writable: false);
        http.ContentLength = renamed.Length;
        if (memberSession.SessionId is { } memberSessionId)
        {
            http.Headers[McpHeaders.SessionId] = memberSessionId;
        }
        else
        {
            http.Headers.Remove(McpHeaders.SessionId);
        }

        http.Headers[McpHeaders.ProtocolVersion] = memberSession.ProtocolVersion;
        if (http.Headers.ContainsKey(McpHeaders.Name))
        {
            http.Headers[McpHeaders.Name] = tool;
        }

        context.Response.OnStarting(static state =>
        {
            var (response, member) = ((HttpResponse, McpRequestContext))state;
            // The client knows the virtual session only, and the virtual server's authorization: not the member's
            // session id, nor a challenge of the member's upstream.
            response.Headers.Remove(McpHeaders.SessionId);
            response.Headers.Remove(HeaderNames.WWWAuthenticate);
            if (member.GatewayErrorCode != 0 && response.StatusCode >= StatusCodes.Status400BadRequest)
            {
                // The gateway's own refusal of the member's call (its limits, its upstream down) is, for a client of
                // the virtual server, an answer of the call, as on the SDK's path.
                response.StatusCode = StatusCodes.Status200OK;
            }
            else if (response.StatusCode == StatusCodes.Status404NotFound)
            {
                // The member forgot its session: for the client that is not the end of the virtual session.
                response.StatusCode = StatusCodes.Status502BadGateway;
            }

            return Task.CompletedTask;
        }, (context.Response, memberRequest));
        context.SetEndpoint(route);
        using (session.DirectCall(request.Envelope.Id, member))
        {
            await MemberSteps()(context).ConfigureAwait(false);
        }

        if (context.Response.StatusCode == StatusCodes.Status502BadGateway && memberRequest.GatewayErrorCode == 0)
        {
            // The next call opens a new member session (the SDK's path, then straight again).
            await session.ForgetMemberSessionAsync(member).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// A client's <c>notifications/cancelled</c> of a call that went straight to its member is told that member (the
    /// SDK's server, which passes it on too, does not know the call).
    /// </summary>
    public void ForwardCancellation(HttpContext context)
    {
        var request = context.GetMcpRequest();
        if (request.Envelope is { Method: NotificationMethods.CancelledNotification } && request.Body is { } body
            && context.Request.Headers[McpHeaders.SessionId].ToString() is { Length: > 0 } sessionId
            && sessions.SessionOf(sessionId, request) is { } session)
        {
            session.ForwardCancellation(body.Memory);
        }
    }

    private static bool TryResolve(VirtualSession session, string name, out string member, out string tool)
    {
        try
        {
            return session.TryResolveTool(name, out member, out tool);
        }
        catch (ModelContextProtocol.McpProtocolException)
        {
            // The virtual server was removed a moment ago: the SDK's path answers that.
            member = tool = string.Empty;
            return false;
        }
    }

    // The member's metrics and audit, then its route's endpoint: YARP's pipeline, as for a direct client.
    private RequestDelegate MemberSteps() => _memberSteps ??= new ApplicationBuilder(services)
        .UseMiddleware<McpTelemetryMiddleware>()
        .Use(next => context => context.GetEndpoint()!.RequestDelegate!(context))
        .Build();

    private Endpoint? RouteOf(string member)
    {
        if (Volatile.Read(ref _routes) is not { Token.HasChanged: false } current)
        {
            var token = endpoints.GetChangeToken();
            var byRoute = new Dictionary<string, Endpoint>(StringComparer.Ordinal);
            foreach (var endpoint in endpoints.Endpoints)
            {
                if (endpoint.Metadata.GetMetadata<RouteModel>()?.Config.RouteId is { } id)
                {
                    byRoute[id] = endpoint;
                }
            }

            current = new RouteEndpoints(token, byRoute);
            Volatile.Write(ref _routes, current);
        }

        return current.Routes.GetValueOrDefault(member);
    }

    private static byte[]? RenamedCall(ReadOnlyMemory<byte> body, string tool)
    {
        try
        {
            if (JsonNode.Parse(body.Span) is not JsonObject { } message || message["params"] is not JsonObject parameters)
            {
                return null;
            }

            message["params"] = MemberRequests.MemberParamsOf(parameters, tool, keepProgressToken: true);
            var buffer = new ArrayBufferWriter<byte>(body.Length);
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                message.WriteTo(writer);
            }

            return buffer.WrittenSpan.ToArray();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not a call the gateway can rewrite (duplicate keys, say): the SDK's path answers it.
            return null;
        }
    }

    private sealed record RouteEndpoints(IChangeToken Token, Dictionary<string, Endpoint> Routes);
}
