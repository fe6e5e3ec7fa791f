using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using RoutesServer = Gateway.Transforms.Configuration.McpServerOptions;
using SdkServerOptions = ModelContextProtocol.Server.McpServerOptions;

// Logging, sampling and roots are deprecated as of 2026-07-28, and 2025 clients and members still use them: a virtual
// server relays them as a direct route would.
#pragma warning disable MCP9005

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// One client's session with a virtual server: the member sessions behind it, which member owns which tool, prompt
/// and resource, and the relay of what members send (notifications, and requests of the client) back to the client.
/// </summary>
internal sealed partial class VirtualSession : IAsyncDisposable
{
    private static readonly TimeSpan ReturnCheckInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StoreRefreshInterval = TimeSpan.FromMinutes(10);
    private readonly VirtualServerSessions _sessions;
    private readonly ConcurrentDictionary<string, MemberSession> _members = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _ended = new();
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly ParkedCalls _parked;
    private readonly MemberCatalog _catalog;
    private readonly MemberRequests _requests;
    private readonly ConcurrentDictionary<string, string> _directCalls = new(StringComparer.Ordinal);
    private int _busy;
    private long _storeRefreshedAt;
    private Task<ServerCapabilities>? _capabilities;
    private string? _authorization;

    public VirtualSession(VirtualServerSessions sessions, string virtualServer, string owner, MemberCallTicket ticket, HttpMessageHandler handler, ILogger logger)
    {
        _sessions = sessions;
        VirtualServer = virtualServer;
        Owner = owner;
        Ticket = ticket;
        _logger = logger;
        _http = new HttpClient(new MemberCallHandler(() => _authorization, ticket) { InnerHandler = handler }, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        LastUsed = sessions.Time.GetTimestamp();
        _parked = new ParkedCalls(sessions.Time);
        _catalog = new MemberCatalog(virtualServer, logger);
        _requests = new MemberRequests(sessions.Time);
    }

    public string VirtualServer { get; }

    public MemberCallTicket Ticket { get; }

    /// <summary>Who started the session (<see cref="VirtualServerSessions"/>' owner key): only they may use it.</summary>
    public string Owner { get; }

    /// <summary>Whether members may ask the client something (it offered elicitation, sampling or roots).</summary>
    public bool OffersClientRequests => ClientCapabilities is { } c && (c.Elicitation is not null || c.Sampling is not null || c.Roots is not null);

    /// <summary>The id the client knows the session by; null for a 2026-07-28 client's requests, which share one per caller.</summary>
    public string? SessionId { get; private set; }

    /// <summary>The session's own server, for what is sent outside any request (list changes); null until it runs.</summary>
    public McpServer? Server { get; set; }

    public ClientCapabilities? ClientCapabilities { get; set; }

    public Implementation? ClientInfo { get; set; }

    /// <summary>Whether the client ended the session (DELETE): only then are the member sessions ended too.</summary>
    public bool EndedByClient { get; set; }

    public long LastUsed { get; private set; }

    /// <summary>Whether this is the shared session of a 2026-07-28 caller, which no SDK session owns.</summary>
    public bool Sessionless { get; set; }

    public IEnumerable<MemberSession> OpenMembers => _members.Values.Where(m => m.IsOpen);

    /// <summary>Takes the caller's credentials and address from the client's latest request.</summary>
    public void Touch(HttpContext? http)
    {
        var now = _sessions.Time.GetTimestamp();
        var stored = _storeRefreshedAt;
        if (SessionId is { } id && _sessions.Time.GetElapsedTime(stored, now) > StoreRefreshInterval && Interlocked.CompareExchange(ref _storeRefreshedAt, now, stored) == stored)
        {
            // The stored record lasts a session lifetime from its last write: a session in use keeps it (once a while).
            _ = _sessions.Store.RefreshAsync(id, CancellationToken.None);
        }

        LastUsed = now;
        if (http is null)
        {
            return;
        }

        // A token is passed on only when the virtual server validated it (its caller is authenticated).
        var authorization = http.Request.Headers.Authorization;
        _authorization = Ticket.Audience is not null && authorization.Count > 0 ? authorization.ToString() : null;
        Ticket.ClientAddress = http.Connection.RemoteIpAddress;
    }

    /// <summary>Learns the session's id once the SDK has issued it, and stores what the members opened so far need.</summary>
    public async Task IdentifyAsync(string sessionId, CancellationToken cancellationToken)
    {
        SessionId = sessionId;
        foreach (var member in OpenMembers)
        {
            await SaveAsync(member, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Resume(string sessionId) => SessionId = sessionId;

    private RoutesServer Options => _sessions.Routes.Current.Servers.TryGetValue(VirtualServer, out var options) && options.Transport == McpTransport.Virtual
        ? options
        : throw new McpProtocolException($"Virtual server '{VirtualServer}' was removed from the routes.", (McpErrorCode)JsonRpcErrorCodes.UnknownServer);

    private MemberSession MemberOf(string name)
    {
        var options = Options;
        var configured = options.Members.FirstOrDefault(m => string.Equals(m, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new McpProtocolException($"'{name}' is not a member of virtual server '{VirtualServer}'.", McpErrorCode.InvalidParams);
        return _members.GetOrAdd(configured, static (m, s) => new MemberSession(s, m), this);
    }

    /// <summary>The union of the members' capabilities; members never seen are asked, for at most the member timeout.</summary>
    public Task<ServerCapabilities> CapabilitiesAsync(CancellationToken cancellationToken) =>
        // A session-less session is configured on every request: its members are asked once.
        Sessionless ? _capabilities ??= UnionOfCapabilitiesAsync(_ended.Token) : UnionOfCapabilitiesAsync(cancellationToken);

    private async Task<ServerCapabilities> UnionOfCapabilitiesAsync(CancellationToken cancellationToken)
    {
        var options = Options;
        var known = new List<ServerCapabilities>();
        var unknown = new List<string>();
        foreach (var member in options.Members)
        {
            if (_sessions.Capabilities.TryGetValue(member, out var capabilities))
            {
                known.Add(capabilities);
            }
            else
            {
                unknown.Add(member);
            }
        }

        var asked = await Task.WhenAll(unknown.Select(m => WithMemberAsync(m, static (c, _) => ValueTask.FromResult<ServerCapabilities?>(c.ServerCapabilities), options, cancellationToken))).ConfigureAwait(false);
        known.AddRange(asked.OfType<ServerCapabilities>());

        // Tools are always offered, with list changes: a member that is down now may bring its tools later.
        return new ServerCapabilities
        {
            Tools = new ToolsCapability { ListChanged = true },
            Prompts = known.Any(c => c.Prompts is not null) ? new PromptsCapability { ListChanged = true } : null,
            Resources = known.Any(c => c.Resources is not null)
                ? new ResourcesCapability { ListChanged = true, Subscribe = known.Any(c => c.Resources?.Subscribe == true) ? true : null }
                : null,
            Logging = known.Any(c => c.Logging is not null) ? new LoggingCapability() : null,
            Completions = known.Any(c => c.Completions is not null) ? new CompletionsCapability() : null,
        };
    }

    public void SetHandlers(SdkServerOptions server)
    {
        var handlers = server.Handlers;
        var capabilities = server.Capabilities!;
        handlers.ListToolsHandler = ListToolsAsync;
        handlers.CallToolHandler = CallToolAsync;
        if (capabilities.Prompts is not null)
        {
            handlers.ListPromptsHandler = ListPromptsAsync;
            handlers.GetPromptHandler = GetPromptAsync;
        }

        if (capabilities.Resources is not null)
        {
            handlers.ListResourcesHandler = ListResourcesAsync;
            handlers.ListResourceTemplatesHandler = ListResourceTemplatesAsync;
            handlers.ReadResourceHandler = ReadResourceAsync;
            if (capabilities.Resources.Subscribe == true)
            {
                handlers.SubscribeToResourcesHandler = SubscribeAsync;
                handlers.UnsubscribeFromResourcesHandler = UnsubscribeAsync;
            }
        }

        if (capabilities.Logging is not null)
        {
            handlers.SetLoggingLevelHandler = SetLoggingLevelAsync;
        }

        if (capabilities.Completions is not null)
        {
            handlers.CompleteHandler = CompleteAsync;
        }
    }

    private ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        return ToolsAsync(cancellationToken);
    }

    private async ValueTask<ListToolsResult> ToolsAsync(CancellationToken cancellationToken)
    {
        var options = Options;
        var lists = await AllMembersAsync(options, static c => true, MemberLists.ToolsAsync, cancellationToken).ConfigureAwait(false);
        return new ListToolsResult { Tools = _catalog.Tools(options, lists) };
    }

    private async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        if (Sessionless && request.Params?.RequestState is { Length: > 0 } state)
        {
            return await _parked.ResumeAsync(state, request.Params.InputResponses, cancellationToken).ConfigureAwait(false);
        }

        var name = request.Params?.Name ?? throw new McpProtocolException("tools/call names no tool.", McpErrorCode.InvalidParams);
        var (member, tool) = await ResolveAsync(name, "tool", async ct => await ToolsAsync(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var progress = request.Params.ProgressToken is { } token ? new ProgressRelay(request.Server, token) : null;
        var parameters = MemberRequests.MemberParamsOf(request.JsonRpcRequest.Params, tool);

        if (!Sessionless)
        {
            return await CallToolOfMemberAsync(member, request.Server, parameters, progress, inputs: null, cancellationToken).ConfigureAwait(false);
        }

        var call = new PendingCall((inputs, ct) => CallToolOfMemberAsync(member, request.Server, parameters, progress, inputs, ct));
        return await _parked.AwaitAsync(call, cancellationToken).ConfigureAwait(false);
    }

    private async Task<CallToolResult> CallToolOfMemberAsync(
        string member, McpServer caller, JsonObject parameters, ProgressRelay? progress, MemberInputs? inputs, CancellationToken cancellationToken)
    {
        var result = await CallMemberAsync(member, caller, (client, ct) => _requests.SendAsync(client, RequestMethods.ToolsCall, parameters, progress, Options.MemberTimeout, ct), cancellationToken, inputs)
            .ConfigureAwait(false);
        if (progress is not null)
        {
            // The member sent its progress before its result; so must the client get it.
            await progress.SentAsync().ConfigureAwait(false);
        }

        return result?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<CallToolResult>())
            ?? throw new McpProtocolException($"Member '{member}' answered tools/call without a result.", McpErrorCode.InternalError);
    }

    private ValueTask<ListPromptsResult> ListPromptsAsync(RequestContext<ListPromptsRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        return PromptsAsync(cancellationToken);
    }

    private async ValueTask<ListPromptsResult> PromptsAsync(CancellationToken cancellationToken)
    {
        var options = Options;
        var lists = await AllMembersAsync(options, static c => c.Prompts is not null, MemberLists.PromptsAsync, cancellationToken).ConfigureAwait(false);
        return new ListPromptsResult { Prompts = _catalog.Prompts(options, lists) };
    }

    private async ValueTask<GetPromptResult> GetPromptAsync(RequestContext<GetPromptRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        var name = request.Params?.Name ?? throw new McpProtocolException("prompts/get names no prompt.", McpErrorCode.InvalidParams);
        var (member, prompt) = await ResolveAsync(name, "prompt", async ct => await PromptsAsync(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return await CallMemberAsync(member, request.Server, (client, ct) => client.GetPromptAsync(
            new GetPromptRequestParams { Name = prompt, Arguments = request.Params.Arguments, Meta = MemberRequests.MemberMetaOf(request.Params.Meta) }, ct), cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<ListResourcesResult> ListResourcesAsync(RequestContext<ListResourcesRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        return ResourcesAsync(cancellationToken);
    }

    private async ValueTask<ListResourcesResult> ResourcesAsync(CancellationToken cancellationToken)
    {
        var lists = await AllMembersAsync(Options, static c => c.Resources is not null, MemberLists.ResourcesAsync, cancellationToken).ConfigureAwait(false);
        return new ListResourcesResult { Resources = _catalog.Resources(lists) };
    }

    private ValueTask<ListResourceTemplatesResult> ListResourceTemplatesAsync(RequestContext<ListResourceTemplatesRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        return TemplatesAsync(cancellationToken);
    }

    private async ValueTask<ListResourceTemplatesResult> TemplatesAsync(CancellationToken cancellationToken)
    {
        var lists = await AllMembersAsync(Options, static c => c.Resources is not null, MemberLists.TemplatesAsync, cancellationToken).ConfigureAwait(false);
        return new ListResourceTemplatesResult { ResourceTemplates = _catalog.Templates(lists) };
    }

    private async ValueTask<ReadResourceResult> ReadResourceAsync(RequestContext<ReadResourceRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        var uri = request.Params?.Uri ?? throw new McpProtocolException("resources/read names no URI.", McpErrorCode.InvalidParams);
        var member = await ResourceOwnerAsync(uri, cancellationToken).ConfigureAwait(false);
        return await CallMemberAsync(member, request.Server, (client, ct) => client.ReadResourceAsync(
            new ReadResourceRequestParams { Uri = uri, Meta = MemberRequests.MemberMetaOf(request.Params.Meta) }, ct), cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<EmptyResult> SubscribeAsync(RequestContext<SubscribeRequestParams> request, CancellationToken cancellationToken) =>
        ToResourceOwnerAsync(request.Server, request.Params?.Uri, (client, uri, ct) => client.SubscribeToResourceAsync(new SubscribeRequestParams { Uri = uri }, ct), cancellationToken);

    private ValueTask<EmptyResult> UnsubscribeAsync(RequestContext<UnsubscribeRequestParams> request, CancellationToken cancellationToken) =>
        ToResourceOwnerAsync(request.Server, request.Params?.Uri, (client, uri, ct) => client.UnsubscribeFromResourceAsync(new UnsubscribeRequestParams { Uri = uri }, ct), cancellationToken);

    /// <summary>A subscription's change, sent to the member that listed the URI.</summary>
    private async ValueTask<EmptyResult> ToResourceOwnerAsync(McpServer caller, string? uri, Func<McpClient, string, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        if (uri is null)
        {
            throw new McpProtocolException("The request names no URI.", McpErrorCode.InvalidParams);
        }

        var member = await ResourceOwnerAsync(uri, cancellationToken).ConfigureAwait(false);
        return await CallMemberAsync(member, caller, async (client, ct) =>
        {
            await send(client, uri, ct).ConfigureAwait(false);
            return new EmptyResult();
        }, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<EmptyResult> SetLoggingLevelAsync(RequestContext<SetLevelRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        var level = request.Params?.Level ?? LoggingLevel.Info;
        await AllMembersAsync(Options, static c => c.Logging is not null, async (client, ct) =>
        {
            await client.SetLoggingLevelAsync(level, cancellationToken: ct).ConfigureAwait(false);
            return (IList<bool>)[];
        }, cancellationToken).ConfigureAwait(false);
        return new EmptyResult();
    }

    private async ValueTask<CompleteResult> CompleteAsync(RequestContext<CompleteRequestParams> request, CancellationToken cancellationToken)
    {
        Touch(_sessions.HttpContext);
        var parameters = request.Params ?? throw new McpProtocolException("completion/complete has no params.", McpErrorCode.InvalidParams);
        string member;
        Reference reference;
        switch (parameters.Ref)
        {
            case PromptReference prompt:
                (member, var name) = await ResolveAsync(prompt.Name, "prompt", async ct => await PromptsAsync(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                reference = new PromptReference { Name = name, Title = prompt.Title };
                break;
            case ResourceTemplateReference template:
                member = await ResourceOwnerAsync(template.Uri ?? string.Empty, cancellationToken).ConfigureAwait(false);
                reference = template;
                break;
            default:
                throw new McpProtocolException("completion/complete needs a prompt or resource reference.", McpErrorCode.InvalidParams);
        }

        return await CallMemberAsync(member, request.Server, (client, ct) => client.CompleteAsync(
            new CompleteRequestParams { Ref = reference, Argument = parameters.Argument, Context = parameters.Context, Meta = MemberRequests.MemberMetaOf(parameters.Meta) }, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a request on one member, naming the member in any failure, and once more on a new session when the member forgot this one.</summary>
    private async ValueTask<T> CallMemberAsync<T>(
        string name, McpServer caller, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken, MemberInputs? inputs = null)
    {
        var member = MemberOf(name);
        using var scope = member.Calling(caller, inputs);
        Interlocked.Increment(ref _busy);
        using var busy = new Releaser(() => Interlocked.Decrement(ref _busy));
        for (var attempt = 0; ; attempt++)
        {
            McpClient client;
            try
            {
                client = await member.ClientAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsMemberFailure(ex, cancellationToken))
            {
                throw Unavailable(member, ex);
            }

            try
            {
                return await call(client, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt == 0 && MemberSession.IsSessionGone(ex))
            {
                await ForgetAsync(member, client).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not McpProtocolException && IsMemberFailure(ex, cancellationToken))
            {
                throw Unavailable(member, ex);
            }
        }
    }

    private async Task ForgetAsync(MemberSession member, McpClient stale)
    {
        // Only the one that dropped the stale session drops its state: another may have stored a new one already.
        if (await member.ResetAsync(stale).ConfigureAwait(false) && SessionId is { } id)
        {
            await _sessions.Store.RemoveMemberAsync(id, member.Name, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private McpProtocolException Unavailable(MemberSession member, Exception ex)
    {
        var reason = ReasonOf(ex);
        // A member route that refuses the caller (401, 403) or limits it (429) is up: only a failure is watched.
        if (ex is not HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests }
            && member.MarkUnavailable())
        {
            _ = WatchForReturnAsync(member);
        }

        LogMemberUnavailable(_logger, VirtualServer, member.Name, reason);
        return new McpProtocolException($"Member '{member.Name}' of virtual server '{VirtualServer}' is unavailable: {reason}", (McpErrorCode)JsonRpcErrorCodes.UpstreamUnavailable);
    }

    private static string ReasonOf(Exception ex) => ex switch
    {
        HttpRequestException { StatusCode: { } status } => $"its route answered {(int)status} {status}.",
        OperationCanceledException or TimeoutException => "it did not answer in time.",
        _ => ex.Message,
    };

    private static bool IsMemberFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex is HttpRequestException or OperationCanceledException or TimeoutException or IOException or McpException;

    /// <summary>Lists of every member that has the capability, each waited on for at most the member timeout; a member that fails is left out.</summary>
    private async Task<List<(string Member, IList<T> Items)>> AllMembersAsync<T>(
        RoutesServer options, Func<ServerCapabilities, bool> has, Func<McpClient, CancellationToken, ValueTask<IList<T>>> list, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(options.Members.Select(member => WithMemberAsync(member, async (client, ct) =>
            client.ServerCapabilities is { } capabilities && has(capabilities) ? await list(client, ct).ConfigureAwait(false) : null, options, cancellationToken))).ConfigureAwait(false);
        return [.. options.Members.Zip(results).Where(r => r.Second is not null).Select(r => (r.First, r.Second!))];
    }

    private async Task<T?> WithMemberAsync<T>(string name, Func<McpClient, CancellationToken, ValueTask<T?>> use, RoutesServer options, CancellationToken cancellationToken)
        where T : class
    {
        var member = MemberOf(name);
        using var timeout = new CancellationTokenSource(options.MemberTimeout, _sessions.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            var client = await member.ClientAsync(linked.Token).ConfigureAwait(false);
            try
            {
                return await use(client, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (MemberSession.IsSessionGone(ex))
            {
                await ForgetAsync(member, client).ConfigureAwait(false);
                return await use(await member.ClientAsync(linked.Token).ConfigureAwait(false), linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsMemberFailure(ex, cancellationToken))
        {
            _ = Unavailable(member, ex);
            return null;
        }
    }

    /// <summary>Checks a member that failed until it answers again, then tells the client its lists changed.</summary>
    private async Task WatchForReturnAsync(MemberSession member)
    {
        try
        {
            while (!_ended.IsCancellationRequested)
            {
                await Task.Delay(ReturnCheckInterval, _sessions.Time, _ended.Token).ConfigureAwait(false);
                using var timeout = new CancellationTokenSource(Options.MemberTimeout, _sessions.Time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _ended.Token);
                McpClient? client = null;
                try
                {
                    client = await member.ClientAsync(linked.Token).ConfigureAwait(false);
                    await client.PingAsync(cancellationToken: linked.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsMemberFailure(ex, _ended.Token))
                {
                    if (client is not null && MemberSession.IsSessionGone(ex))
                    {
                        await ForgetAsync(member, client).ConfigureAwait(false);
                    }

                    continue;
                }

                LogMemberBack(_logger, VirtualServer, member.Name);
                await NotifyAsync(NotificationMethods.ToolListChangedNotification, null).ConfigureAwait(false);
                if (Server?.ServerOptions.Capabilities is { } offered)
                {
                    // Only of the lists the client was offered.
                    if (offered.Prompts is not null)
                    {
                        await NotifyAsync(NotificationMethods.PromptListChangedNotification, null).ConfigureAwait(false);
                    }

                    if (offered.Resources is not null)
                    {
                        await NotifyAsync(NotificationMethods.ResourceListChangedNotification, null).ConfigureAwait(false);
                    }
                }

                return;
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
        catch (McpProtocolException)
        {
            // The virtual server was removed.
        }
        finally
        {
            member.WatchEnded();
        }
    }

    private async Task<(string Member, string Name)> ResolveAsync(string name, string kind, Func<CancellationToken, Task> list, CancellationToken cancellationToken)
    {
        var options = Options;
        if (_catalog.TryResolve(options, kind, name, out var member, out var memberName))
        {
            return (member, memberName);
        }

        if (options.ToolNames == ToolNaming.Prefixed)
        {
            throw UnknownName(kind, name, $"Its name must be '<member>{MemberNames.Separator}<{kind}>' with one of the members: {string.Join(", ", options.Members)}.");
        }

        // Unchanged names are known from the members' lists: the last one may be older than the name.
        await list(cancellationToken).ConfigureAwait(false);
        return _catalog.TryResolve(options, kind, name, out member, out memberName)
            ? (member, memberName)
            : throw UnknownName(kind, name, $"No member lists it now; {kind}s/list shows what they do.");
    }

    /// <summary>Notes a call that went straight to its member under the client's own id (<see cref="DirectMemberCalls"/>).</summary>
    public IDisposable DirectCall(ReadOnlyMemory<byte> id, string member)
    {
        var key = IdKeyOf(JsonNode.Parse(id.Span));
        _directCalls[key] = member;
        Interlocked.Increment(ref _busy);
        return new DirectCallScope(this, key);
    }

    /// <summary>Tells the member of a direct call that the client cancelled it.</summary>
    public void ForwardCancellation(ReadOnlyMemory<byte> notification)
    {
        try
        {
            if (JsonNode.Parse(notification.Span) is JsonObject message && message["params"] is JsonObject parameters && parameters["requestId"] is { } id
                && _directCalls.TryGetValue(IdKeyOf(id), out var member) && _members.TryGetValue(member, out var session) && session.Client is { } client)
            {
                _ = client.SendMessageAsync(new JsonRpcNotification { Method = NotificationMethods.CancelledNotification, Params = parameters.DeepClone() }, _ended.Token);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not a cancellation the gateway can read (duplicate keys, say): the member is not told.
        }
    }

    // One spelling of a JSON-RPC id, whatever escapes the client wrote it with.
    private static string IdKeyOf(JsonNode? id) => id?.GetValueKind() == JsonValueKind.String ? "s:" + id.GetValue<string>() : "n:" + id?.ToJsonString();

    /// <summary>Whether a call is running, so that an idle session-less session is not ended under it.</summary>
    public bool Busy => Volatile.Read(ref _busy) > 0;

    /// <summary>The member and its own name of a tool the client names, when known without asking a member.</summary>
    public bool TryResolveTool(string name, out string member, out string tool) => _catalog.TryResolve(Options, "tool", name, out member, out tool);

    /// <summary>Forgets a member session the member no longer knows, found on a direct call.</summary>
    public async Task ForgetMemberSessionAsync(string member)
    {
        if (_members.TryGetValue(member, out var session) && session.Client is { } client)
        {
            await ForgetAsync(session, client).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The open session of <paramref name="member"/>: its route's session id (null for a member that keeps none) and
    /// the revision it speaks; null while none is open.
    /// </summary>
    public (string? SessionId, string ProtocolVersion)? OpenSessionOf(string member) =>
        _members.TryGetValue(member, out var session) && session.Client is { Completion.IsCompleted: false } client
            ? (client.SessionId, client.NegotiatedProtocolVersion ?? VirtualServerProtocol.MemberProtocolVersion)
            : null;

    private McpProtocolException UnknownName(string kind, string name, string hint) =>
        new($"Unknown {kind} '{EchoedText.Of(name, 128)}' of virtual server '{VirtualServer}'. {hint}", McpErrorCode.InvalidParams);

    private async Task<string> ResourceOwnerAsync(string uri, CancellationToken cancellationToken)
    {
        if (_catalog.OwnerOfUri(uri) is { } known)
        {
            return known;
        }

        await ResourcesAsync(cancellationToken).ConfigureAwait(false);
        await TemplatesAsync(cancellationToken).ConfigureAwait(false);
        return _catalog.OwnerOfUri(uri) ?? throw new McpProtocolException(
            $"Unknown resource '{EchoedText.Of(uri, 256)}' of virtual server '{VirtualServer}': no member lists it or a template it matches.", McpErrorCode.ResourceNotFound);
    }

    /// <summary>Opens (or, with what the store holds, resumes) a member's session through the member's route.</summary>
    internal async Task<McpClient> OpenMemberAsync(MemberSession member, CancellationToken cancellationToken)
    {
        var stored = SessionId is { } id ? await _sessions.Store.LoadMemberAsync(id, member.Name, cancellationToken).ConfigureAwait(false) : null;
        if (stored is not null)
        {
            var resumed = await McpClient.ResumeSessionAsync(TransportTo(member, stored), stored.ResumeOptions(), ClientOptionsFor(member, stored.ProtocolVersion), _sessions.Loggers, cancellationToken)
                .ConfigureAwait(false);
            _sessions.Capabilities[member.Name] = resumed.ServerCapabilities;
            return resumed;
        }

        for (var i = 0; ; i++)
        {
            try
            {
                var client = await McpClient.CreateAsync(TransportTo(member, null), ClientOptionsFor(member, VirtualServerProtocol.MemberProtocolVersions[i]), _sessions.Loggers, cancellationToken)
                    .ConfigureAwait(false);
                _sessions.Capabilities[member.Name] = client.ServerCapabilities;
                if (SessionId is not null)
                {
                    await SaveAsync(client, member.Name, cancellationToken).ConfigureAwait(false);
                }

                return client;
            }
            catch (McpException ex) when (ex is not McpProtocolException && i + 1 < VirtualServerProtocol.MemberProtocolVersions.Count
                && ex.Message.StartsWith(VirtualServerProtocol.VersionMismatch, StringComparison.Ordinal))
            {
                // An older member answers with the revision it speaks: asked again in that one's predecessor.
            }
        }
    }

    private ObservedClientTransport TransportTo(MemberSession member, MemberSessionState? stored) => new(
        new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = new Uri(MemberCallEndpoint.BaseAddress, "mcp/" + Uri.EscapeDataString(member.Name)),
                TransportMode = HttpTransportMode.StreamableHttp,
                Name = VirtualServer + "/" + member.Name,
                KnownSessionId = stored?.SessionId,
                // A resumed transport learns no revision from an initialize: the stored one is sent.
                AdditionalHeaders = stored is null ? null : new Dictionary<string, string> { [McpHeaders.ProtocolVersion] = stored.ProtocolVersion },
                // Another replica may continue the session: only the client's DELETE ends the member's (EndAsync).
                OwnsSession = false,
                ConnectionTimeout = Options.MemberTimeout,
            },
            _http,
            _sessions.Loggers,
            ownsHttpClient: false),
        _requests.Observe);

    private Task SaveAsync(MemberSession member, CancellationToken cancellationToken) =>
        member.Client is { } client ? SaveAsync(client, member.Name, cancellationToken) : Task.CompletedTask;

    private Task SaveAsync(McpClient client, string member, CancellationToken cancellationToken) =>
        _sessions.Store.SaveMemberAsync(SessionId!, member, MemberSessionState.Of(client), cancellationToken);

    /// <summary>The member sees the client's own capabilities; what it asks of the client goes to the client.</summary>
    private McpClientOptions ClientOptionsFor(MemberSession member, string protocolVersion)
    {
        var capabilities = ClientCapabilities;
        var handlers = new McpClientHandlers
        {
            NotificationHandlers =
            [
                new(NotificationMethods.ToolListChangedNotification, (n, _) => RelayAsync(n)),
                new(NotificationMethods.PromptListChangedNotification, (n, _) => RelayAsync(n)),
                new(NotificationMethods.ResourceListChangedNotification, (n, _) => RelayAsync(n)),
                new(NotificationMethods.ResourceUpdatedNotification, (n, _) => RelayAsync(n)),
                // Session-less sessions may be several callers' (anonymous ones by address): their log lines are not relayed.
                new(NotificationMethods.LoggingMessageNotification, (n, _) => Sessionless ? ValueTask.CompletedTask : RelayAsync(n, member.LatestCall?.Caller)),
            ],
        };
        if (capabilities?.Elicitation is not null)
        {
            handlers.ElicitationHandler = async (request, ct) => InputsOf(member) is { } inputs
                ? AnswerOf<ElicitResult>(await inputs.AskAsync(InputRequest.ForElicitation(request!), ct).ConfigureAwait(false))
                : await TargetOf(member).ElicitAsync(request!, ct).ConfigureAwait(false);
        }

        if (capabilities?.Sampling is not null)
        {
            handlers.SamplingHandler = async (request, _, ct) => InputsOf(member) is { } inputs
                ? AnswerOf<CreateMessageResult>(await inputs.AskAsync(InputRequest.ForSampling(request!), ct).ConfigureAwait(false))
                : await TargetOf(member).SampleAsync(request!, ct).ConfigureAwait(false);
        }

        if (capabilities?.Roots is not null)
        {
            handlers.RootsHandler = async (request, ct) => InputsOf(member) is { } inputs
                ? AnswerOf<ListRootsResult>(await inputs.AskAsync(InputRequest.ForRootsList(request!), ct).ConfigureAwait(false))
                : await TargetOf(member).RequestRootsAsync(request!, ct).ConfigureAwait(false);
        }

        return new McpClientOptions
        {
            ClientInfo = ClientInfo ?? new Implementation { Name = "mcp-gateway", Version = VirtualServerSessions.GatewayVersion },
            ProtocolVersion = protocolVersion,
            Capabilities = new ClientCapabilities { Elicitation = capabilities?.Elicitation, Sampling = capabilities?.Sampling, Roots = capabilities?.Roots },
            Handlers = handlers,
            InitializationTimeout = Options.MemberTimeout,
        };
    }

    /// <summary>Where a member's question goes when session-less calls are in flight: the one call's inputs; with several, none can be told.</summary>
    private static MemberInputs? InputsOf(MemberSession member) =>
        member.SoleInputs ?? (member.HasInputCalls
            ? throw new McpProtocolException("Several calls of the client are in flight, and a question names none of them: ask within one call at a time.", McpErrorCode.InvalidRequest)
            : null);

    private static T AnswerOf<T>(InputResponse response) =>
        response.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<T>()) ?? throw new McpProtocolException("The client's answer is empty.", McpErrorCode.InvalidParams);

    private McpServer TargetOf(MemberSession member) =>
        member.LatestCall?.Caller ?? Server ?? throw new McpProtocolException($"Member '{member.Name}' asked the client outside any request, and the client keeps no session.", McpErrorCode.InternalError);

    private ValueTask RelayAsync(JsonRpcNotification notification, McpServer? target = null) =>
        new(NotifyAsync(notification.Method, notification.Params, target));

    private async Task NotifyAsync(string method, JsonNode? parameters, McpServer? target = null)
    {
        if ((target ?? Server) is not { } server || (target is null && SessionId is null))
        {
            return;
        }

        try
        {
            await server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = parameters?.DeepClone() }, _ended.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException or McpException)
        {
            // The client's stream is gone; it reads the lists again when it comes back.
        }
    }

    /// <summary>Ends the session here; the members' sessions too when the client ended it.</summary>
    public async Task EndAsync()
    {
        await _ended.CancelAsync().ConfigureAwait(false);
        var members = _members.Values.ToList();
        // With the ticket still good: the member routes take the virtual server's audience only with it.
        await Task.WhenAll(members.Where(m => (EndedByClient || !_sessions.Store.Shared) && m.SessionId is not null)
            .Select(m => DeleteMemberSessionAsync(m.Name, m.SessionId!))).ConfigureAwait(false);
        _sessions.Endpoint.Revoke(Ticket);

        foreach (var member in members)
        {
            await member.DisposeAsync().ConfigureAwait(false);
        }

        if (SessionId is { } id && EndedByClient)
        {
            await _sessions.Store.RemoveAsync(id, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task DeleteMemberSessionAsync(string member, string sessionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(MemberCallEndpoint.BaseAddress, "mcp/" + Uri.EscapeDataString(member)));
        request.Headers.TryAddWithoutValidation(McpHeaders.SessionId, sessionId);
        request.Headers.TryAddWithoutValidation(McpHeaders.ProtocolVersion, VirtualServerProtocol.MemberProtocolVersion);
        try
        {
            using var timeout = new CancellationTokenSource(Options.MemberTimeout, _sessions.Time);
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or McpProtocolException)
        {
            // The member ends it at its idle timeout (also when the virtual server was removed meanwhile).
        }
    }

    public async ValueTask DisposeAsync()
    {
        await EndAsync().ConfigureAwait(false);
        _parked.Dispose();
        _ended.Dispose();
        _http.Dispose();
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    private sealed class DirectCallScope(VirtualSession session, string id) : IDisposable
    {
        public void Dispose()
        {
            session._directCalls.TryRemove(id, out _);
            Interlocked.Decrement(ref session._busy);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Virtual server {VirtualServer}: member {Member} is unavailable: {Reason}")]
    private static partial void LogMemberUnavailable(ILogger logger, string virtualServer, string member, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Virtual server {VirtualServer}: member {Member} answers again; the client is told its lists changed.")]
    private static partial void LogMemberBack(ILogger logger, string virtualServer, string member);
}
