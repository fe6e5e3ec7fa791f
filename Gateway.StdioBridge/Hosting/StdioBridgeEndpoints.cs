using System.Globalization;
using System.Text.Json;
using Gateway.Mcp;
using Gateway.StdioBridge.Configuration;
using Gateway.StdioBridge.Processes;
using Gateway.StdioBridge.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.StdioBridge.Hosting;

/// <summary>The streamable-HTTP face of the bridge: <c>POST|GET|DELETE /{server}/mcp</c>.</summary>
internal static partial class StdioBridgeEndpoints
{
    public const string RoutePattern = "/{server}/mcp";

    public static IEndpointRouteBuilder MapStdioBridge(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(RoutePattern, PostAsync);
        endpoints.MapGet(RoutePattern, GetAsync);
        endpoints.MapDelete(RoutePattern, DeleteAsync);
        return endpoints;
    }

    private static async Task PostAsync(HttpContext context, string server, IStdioServerCatalog catalog, StdioSessionRegistry sessions, ILoggerFactory loggerFactory)
    {
        JsonRpcMessage? message;
        try
        {
            message = await JsonSerializer.DeserializeAsync<JsonRpcMessage>(context.Request.Body, McpJsonUtilities.DefaultOptions, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            message = null;
        }

        if (message is null)
        {
            await JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status400BadRequest, JsonRpcErrorCodes.ParseError,
                "Parse error: the body is not one JSON-RPC message.").ConfigureAwait(false);
            return;
        }

        if (!catalog.TryGet(server, out var options))
        {
            await UnknownServer(context, server, IdOf(message)).ConfigureAwait(false);
            return;
        }

        var sessionId = context.Request.Headers[McpHeaders.SessionId].ToString();
        StdioSession? session;
        var oneShot = false;
        if (sessionId.Length > 0)
        {
            session = sessions.Find(server, sessionId);
            if (session is null)
            {
                await SessionNotFound(context, IdOf(message)).ConfigureAwait(false);
                return;
            }
        }
        else
        {
            oneShot = message is not JsonRpcRequest { Method: RequestMethods.Initialize };
            SessionStart start;
            try
            {
                start = await sessions.StartAsync(server, options, CallerOf(context), oneShot, context.RequestAborted).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                var reason = ex is StdioStartException ? ex.Message : $"The MCP server process of '{server}' could not be started: {ex.Message}";
                LogStartFailed(loggerFactory.CreateLogger(typeof(StdioBridgeEndpoints)), server, reason);
                await JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status502BadGateway, JsonRpcErrorCodes.UpstreamUnavailable,
                    reason, IdOf(message)).ConfigureAwait(false);
                return;
            }

            if (start.Refusal != SessionRefusal.None)
            {
                await RefuseAsync(context, server, options, start.Refusal, IdOf(message)).ConfigureAwait(false);
                return;
            }

            session = start.Session!;

            if (!oneShot)
            {
                context.Response.Headers[McpHeaders.SessionId] = session.Id;
            }
        }

        try
        {
            if (message is JsonRpcRequest)
            {
                StartEventStream(context);
            }

            if (!await session.HandlePostAsync(message, context.Response, context.RequestAborted).ConfigureAwait(false))
            {
                context.Response.StatusCode = StatusCodes.Status202Accepted;
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The session closed while this message was being handed over: its process exited, or it was ended
            // (DELETE, idleness, room for another), which its client learns as for any ended session.
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.Remove(McpHeaders.SessionId);
                context.Response.Headers.CacheControl = default;
                context.Response.Headers.ContentEncoding = default;
                await (session.ExitReason is { } reason
                    ? JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status502BadGateway, JsonRpcErrorCodes.UpstreamUnavailable,
                        $"The MCP server process of '{server}' {reason}.", IdOf(message))
                    : SessionNotFound(context, IdOf(message))).ConfigureAwait(false);
            }
        }
        finally
        {
            if (oneShot)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task GetAsync(HttpContext context, string server, StdioSessionRegistry sessions)
    {
        var session = sessions.Find(server, context.Request.Headers[McpHeaders.SessionId].ToString());
        if (session is null)
        {
            await SessionNotFound(context).ConfigureAwait(false);
            return;
        }

        StartEventStream(context);
        try
        {
            await session.HandleGetAsync(context.Response, context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidOperationException) when (!context.Response.HasStarted)
        {
            await JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status409Conflict, JsonRpcErrorCodes.InvalidRequest,
                "This session already has a GET stream open.").ConfigureAwait(false);
        }
    }

    private static async Task DeleteAsync(HttpContext context, string server, StdioSessionRegistry sessions)
    {
        var sessionId = context.Request.Headers[McpHeaders.SessionId].ToString();
        if (sessions.Find(server, sessionId) is null || !await sessions.EndAsync(sessionId).ConfigureAwait(false))
        {
            await SessionNotFound(context).ConfigureAwait(false);
        }
    }

    private static void StartEventStream(HttpContext context)
    {
        context.Response.ContentType = McpMediaTypes.EventStream;
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers[HeaderNames.ContentEncoding] = "identity";
    }

    private static Task RefuseAsync(HttpContext context, string server, StdioServerOptions options, SessionRefusal refusal, ReadOnlyMemory<byte> id)
    {
        // Both are refusals of the bridge's own, not failures of the server: the gateway must not count them as such.
        var (status, code, message) = refusal == SessionRefusal.CallerAtLimit
            ? (StatusCodes.Status429TooManyRequests, JsonRpcErrorCodes.RateLimited,
                $"You have {options.MaxSessionsPerCaller} sessions of server '{server}', each answering a request: the most one caller may have. End one (DELETE) or retry later.")
            : (StatusCodes.Status503ServiceUnavailable, JsonRpcErrorCodes.ServerBusy,
                $"All {options.MaxProcesses} processes of server '{server}' are answering requests. Retry later.");
        context.Response.Headers[StdioBridgeHost.BusyHeader] = code.ToString(CultureInfo.InvariantCulture);
        RetryAfter.Set(context.Response, RetryAfter.Unknown);
        return JsonRpcErrorResponse.WriteAsync(context.Response, status, code, message, id);
    }

    /// <summary>Who is calling, for the per-caller session limit: as the gateway says, else the network address.</summary>
    private static string CallerOf(HttpContext context) =>
        context.Items.TryGetValue(StdioBridgeHost.CallerHeader, out var caller) && caller is string known ? known : "ip:" + context.Connection.RemoteIpAddress;

    private static Task UnknownServer(HttpContext context, string server, ReadOnlyMemory<byte> id) =>
        JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status404NotFound, JsonRpcErrorCodes.UnknownServer, $"Unknown stdio server '{server}'.", id);

    private static Task SessionNotFound(HttpContext context, ReadOnlyMemory<byte> id = default) =>
        JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status404NotFound, JsonRpcErrorCodes.SessionNotFound,
            "Session not found: it ended, or its process exited. Start a new session with initialize.", id);

    /// <summary>The raw JSON id of a request the bridge answers itself, so the client can match the answer.</summary>
    private static ReadOnlyMemory<byte> IdOf(JsonRpcMessage message) =>
        message is JsonRpcMessageWithId { Id: var id } ? JsonSerializer.SerializeToUtf8Bytes(id, McpJsonUtilities.DefaultOptions) : default;

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not start a process for stdio server {Server}. {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string server, string reason);
}
