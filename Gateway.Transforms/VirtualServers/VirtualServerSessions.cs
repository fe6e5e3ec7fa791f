using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using SdkServerOptions = ModelContextProtocol.Server.McpServerOptions;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// The virtual servers' side of the C# SDK's Streamable HTTP server: makes each SDK session a <see cref="VirtualSession"/>
/// (its capabilities and handlers), notes its id and initialize so that another replica can continue it, and ends it.
/// </summary>
/// <remarks>
/// A 2026-07-28 client has no session: its requests share one virtual session per caller and virtual server, kept
/// while used.
/// </remarks>
internal sealed class VirtualServerSessions : IAsyncDisposable
{
    private const int MaxSessionless = 10_000;
    private static readonly TimeSpan SessionlessIdle = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private static readonly object SessionItem = new();
    private static readonly object MigrationItem = new();
    private readonly IHttpContextAccessor _accessor;
    private readonly HttpMessageHandler _handler;
    private readonly ILogger<VirtualSession> _logger;
    private readonly ConditionalWeakTable<SdkServerOptions, VirtualSession> _byOptions = [];
    private readonly ConcurrentDictionary<string, VirtualSession> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<VirtualSession>> _sessionless = new(StringComparer.Ordinal);
    private long _lastSweep;

    public VirtualServerSessions(RoutesConfigStore routes, MemberCallEndpoint endpoint, VirtualSessionStore store, IHttpContextAccessor accessor, ILoggerFactory loggers, TimeProvider time)
    {
        Routes = routes;
        Endpoint = endpoint;
        Store = store;
        _accessor = accessor;
        Loggers = loggers;
        Time = time;
        _handler = endpoint.CreateHandler();
        _logger = loggers.CreateLogger<VirtualSession>();
    }

    public static string GatewayVersion { get; } =
        typeof(VirtualServerSessions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public RoutesConfigStore Routes { get; }

    public MemberCallEndpoint Endpoint { get; }

    public VirtualSessionStore Store { get; }

    public ILoggerFactory Loggers { get; }

    public TimeProvider Time { get; }

    /// <summary>Each member's capabilities as last seen, so that a new virtual session need not ask every member.</summary>
    public ConcurrentDictionary<string, ServerCapabilities> Capabilities { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The client's request being handled, for the caller's latest token.</summary>
    public HttpContext? HttpContext => _accessor.HttpContext;

    /// <summary>The SDK's <c>ConfigureSessionOptions</c>: the session (new, continued here, or a session-less caller's) and what it offers.</summary>
    public async Task ConfigureAsync(HttpContext http, SdkServerOptions options, CancellationToken cancellationToken)
    {
        var request = http.GetMcpRequest();
        var initialize = request.Envelope?.Method == "initialize";
        VirtualSession session;
        var created = false;
        if (http.Items[MigrationItem] is (string sessionId, InitializeRequestParams stored))
        {
            // Continued on this replica, for its owner (MigrateAsync checked): the client's initialize, as stored.
            session = NewSession(http, request);
            created = true;
            session.Resume(sessionId);
            Adopt(session, stored);
            _byId[sessionId] = session;
        }
        else if (!initialize)
        {
            // A request without a session (2026-07-28; the SDK serves none other here) says in its _meta what the
            // client can do; callers that say different things get member sessions of their own.
            var (capabilities, client) = ClientOfRequest(request.Body?.Memory);
            var key = request.Server + "|" + OwnerOf(request) + "|" + Sha256Text.Hex(capabilities?.ToJsonString() ?? string.Empty, bytes: 8);
            session = _sessionless.GetOrAdd(key, static (_, s) => new Lazy<VirtualSession>(() => s.Sessions.NewSessionless(s.Http, s.Request, s.Capabilities, s.Client)),
                (Sessions: this, Http: http, Request: request, Capabilities: capabilities, Client: client)).Value;
        }
        else
        {
            session = NewSession(http, request);
            created = true;
            Adopt(session, InitializeOf(request.Body?.Memory));
        }

        session.Touch(http);
        if (session.Sessionless)
        {
            // After the touch, so that this one is not taken for idle.
            await EvictIdleAsync().ConfigureAwait(false);
        }

        try
        {
            _byOptions.AddOrUpdate(options, session);
            http.Items[SessionItem] = session;
            options.ServerInfo = new Implementation { Name = request.Server, Version = GatewayVersion };
            options.Capabilities = await session.CapabilitiesAsync(cancellationToken).ConfigureAwait(false);
            session.SetHandlers(options);
        }
        catch when (created)
        {
            // The SDK never owns a session it could not configure: nothing else would end it.
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The SDK's <c>RunSessionHandler</c>: the session runs, and ends here when the SDK ends it.</summary>
    public async Task RunAsync(HttpContext http, McpServer server, CancellationToken cancellationToken)
    {
        if (!_byOptions.TryGetValue(server.ServerOptions, out var session) || session.Sessionless)
        {
            await server.RunAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        session.Server = server;
        try
        {
            await server.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (session.SessionId is { } id)
            {
                _byId.TryRemove(id, out _);
            }

            await session.DisposeAsync().ConfigureAwait(false);
            if (session.SessionId is { } ended && !Store.Shared)
            {
                await Store.RemoveAsync(ended, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A new session's id, once the SDK issued it: stored with its owner and initialize.</summary>
    public async Task InitializedAsync(HttpContext http, string sessionId, InitializeRequestParams initialize, CancellationToken cancellationToken)
    {
        if (http.Items[SessionItem] is not VirtualSession session)
        {
            return;
        }

        _byId[sessionId] = session;
        var record = new VirtualSessionRecord(session.VirtualServer, OwnerOf(http.GetMcpRequest()),
            JsonSerializer.Serialize(initialize, McpJsonUtilities.DefaultOptions.GetTypeInfo<InitializeRequestParams>()));
        await Store.SaveSessionAsync(sessionId, record, cancellationToken).ConfigureAwait(false);
        await session.IdentifyAsync(sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A session another replica started: continued here for its owner, on its virtual server.</summary>
    public async Task<InitializeRequestParams?> MigrateAsync(HttpContext http, string sessionId, CancellationToken cancellationToken)
    {
        var request = http.GetMcpRequest();
        if (await Store.LoadSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) is not { } record
            || !string.Equals(record.VirtualServer, request.Server, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(record.Owner, OwnerOf(request), StringComparison.Ordinal))
        {
            return null;
        }

        var initialize = InitializeOf(record.Initialize);
        if (initialize is not null)
        {
            http.Items[MigrationItem] = (sessionId, initialize);
        }

        return initialize;
    }

    /// <summary>
    /// Whether a request's session id, when this replica holds that session, is the caller's: the SDK compares the
    /// user alone, and a session is its user's in one client application (as the gateway's own sessions are).
    /// </summary>
    public bool MayUse(string sessionId, McpRequestContext request) =>
        !_byId.TryGetValue(sessionId, out var session)
        || (string.Equals(session.Owner, OwnerOf(request), StringComparison.Ordinal) && string.Equals(session.VirtualServer, request.Server, StringComparison.OrdinalIgnoreCase));

    /// <summary>The client ends its session (DELETE; its owner, <see cref="MayUse"/> checked): its member sessions end with it.</summary>
    public void Ending(string sessionId)
    {
        if (_byId.TryGetValue(sessionId, out var session))
        {
            session.EndedByClient = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessionless.Values.Where(s => s.IsValueCreated))
        {
            await session.Value.DisposeAsync().ConfigureAwait(false);
        }

        _handler.Dispose();
    }

    private VirtualSession NewSessionless(HttpContext http, McpRequestContext request, JsonNode? capabilities, JsonNode? client)
    {
        var session = NewSession(http, request);
        session.Sessionless = true;
        try
        {
            // Anonymous callers are told apart by address alone, so several may share these member sessions: a member's
            // question goes to a call only while it is the one waiting (MemberSession.SoleInputs).
            session.ClientCapabilities = capabilities?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<ClientCapabilities>());
            session.ClientInfo = client?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<Implementation>());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // What the client says of itself is only passed on; the SDK answers a malformed _meta itself.
        }

        return session;
    }

    private VirtualSession NewSession(HttpContext http, McpRequestContext request)
    {
        // The member routes take the virtual server's audience only for a token the virtual server checked itself.
        var audience = Routes.Startup.Auth is { } auth && request.Caller.IsAuthenticated
            ? McpResources.AudienceOf(http.Request, request.Server, request.Options, request.Gateway, auth)
            : null;
        return new VirtualSession(this, request.Server, OwnerOf(request), Endpoint.Issue(request.Server, audience), _handler, _logger);
    }

    /// <summary>The session of <paramref name="sessionId"/> on this replica, when it is the caller's.</summary>
    public VirtualSession? SessionOf(string sessionId, McpRequestContext request) =>
        _byId.TryGetValue(sessionId, out var session) && string.Equals(session.Owner, OwnerOf(request), StringComparison.Ordinal)
        && string.Equals(session.VirtualServer, request.Server, StringComparison.OrdinalIgnoreCase)
            ? session
            : null;

    // Who may continue the session: the same user of the same client application, as for the gateway's own sessions.
    internal static string OwnerOf(McpRequestContext request) =>
        request.Caller.IsAuthenticated ? Convert.ToHexString(request.Caller.SessionOwnerHash.Span) : "anonymous:" + request.CallerKey;

    /// <summary>
    /// Ends the session-less sessions idle for <see cref="SessionlessIdle"/> (looked for at most once a minute), and
    /// beyond <see cref="MaxSessionless"/> the least recently used idle ones, so that callers cannot pile them up.
    /// </summary>
    private async Task EvictIdleAsync()
    {
        var now = Time.GetTimestamp();
        var last = Interlocked.Read(ref _lastSweep);
        if ((_sessionless.Count <= MaxSessionless && Time.GetElapsedTime(last, now) < SweepInterval) || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        var idle = _sessionless.Where(s => s.Value.IsValueCreated && !s.Value.Value.Busy).OrderBy(s => s.Value.Value.LastUsed).ToList();
        var over = _sessionless.Count - MaxSessionless;
        foreach (var (key, session) in idle)
        {
            if ((over-- > 0 || Time.GetElapsedTime(session.Value.LastUsed, now) > SessionlessIdle) && _sessionless.TryRemove(key, out _))
            {
                await session.Value.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // The initialize of a new session's first request; the SDK answers a malformed one itself.
    private static InitializeRequestParams? InitializeOf(ReadOnlyMemory<byte>? body)
    {
        try
        {
            return body is { } json && JsonSerializer.Deserialize(json.Span, McpJsonUtilities.DefaultOptions.GetTypeInfo<JsonRpcMessage>()) is JsonRpcRequest { Params: { } parameters }
                ? parameters.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<InitializeRequestParams>())
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (JsonNode? Capabilities, JsonNode? Client) ClientOfRequest(ReadOnlyMemory<byte>? body)
    {
        try
        {
            return body is { } json && JsonNode.Parse(json.Span) is JsonObject { } message && message["params"] is JsonObject parameters && parameters["_meta"] is JsonObject meta
                ? (meta[MetaKeys.ClientCapabilities], meta[MetaKeys.ClientInfo])
                : (null, null);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return (null, null);
        }
    }

    private static void Adopt(VirtualSession session, InitializeRequestParams? initialize)
    {
        session.ClientCapabilities = initialize?.Capabilities;
        session.ClientInfo = initialize?.ClientInfo;
    }

    private static InitializeRequestParams? InitializeOf(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, McpJsonUtilities.DefaultOptions.GetTypeInfo<InitializeRequestParams>());
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
