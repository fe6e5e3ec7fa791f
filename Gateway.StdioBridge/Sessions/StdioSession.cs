using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Mcp;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.StdioBridge.Sessions;

/// <summary>
/// One MCP session: the streamable-HTTP side (the MCP SDK's server transport, which frames POST answers and the GET
/// stream) joined to a stdio process (see <see cref="IStdioUpstream"/>). Messages pass through unchanged.
/// </summary>
/// <remarks>
/// A stdio server's messages carry no HTTP context, so the session decides where each one goes: answers to the POST
/// that asked; progress to the POST whose request carried that progress token; log messages and server requests to
/// the only POST in flight when there is exactly one; everything else to the GET stream.
/// </remarks>
internal sealed partial class StdioSession : IAsyncDisposable
{
    private const int InternalError = -32603;
    private volatile string? _exitReason;
    private readonly ConcurrentDictionary<RequestId, ITransport> _pending = new();
    private readonly ConcurrentDictionary<string, RequestId> _progressTokens = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _ended = new();

    // Kept apart from its source so messages arriving after the session closed meet a cancelled token, not a disposed source.
    private readonly CancellationToken _endedToken;
    private readonly Task _toProcess;
    private readonly TaskCompletionSource _upstreamEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastActivity;
    private int _inFlight;
    private volatile bool _draining;

    public StdioSession(string id, IStdioUpstream upstream, bool oneShot, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        Id = id;
        Upstream = upstream;
        _endedToken = _ended.Token;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger<StdioSession>();
        Http = new StreamableHttpServerTransport(loggerFactory) { SessionId = oneShot ? null : id, Stateless = oneShot };
        Touch();
        _toProcess = PumpToProcessAsync();
        upstream.Attach(this);
    }

    public string Id { get; }

    public IStdioUpstream Upstream { get; }

    public StreamableHttpServerTransport Http { get; }

    /// <summary>Completes when the process has exited and every pending request was answered with an error.</summary>
    public Task ProcessExited => _upstreamEnded.Task;

    /// <summary>Why the process stopped ("exited with code 3; its last stderr lines: …"); null while it runs, and when it was stopped because the session ended.</summary>
    public string? ExitReason => _exitReason;

    /// <summary>Whether a POST of the session is being answered now.</summary>
    public bool HasRequestInFlight => Volatile.Read(ref _inFlight) > 0;

    /// <summary>When the session was last used (UTC ticks), to tell which idle session has waited longest.</summary>
    public long LastActivityTicks => Interlocked.Read(ref _lastActivity);

    /// <summary>Whether nothing happened on the session for <paramref name="idleTimeout"/> and nothing is in flight.</summary>
    public bool IsIdle(TimeSpan idleTimeout) =>
        Volatile.Read(ref _inFlight) == 0 && _timeProvider.GetUtcNow().UtcTicks - Interlocked.Read(ref _lastActivity) > idleTimeout.Ticks;

    /// <summary>Hands a POSTed message to the process; for a request, streams the related messages and the answer.</summary>
    /// <returns>Whether anything was written to <paramref name="response"/> (false for notifications and responses).</returns>
    public async Task<bool> HandlePostAsync(JsonRpcMessage message, HttpResponse response, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        Touch();
        try
        {
            return await Http.HandlePostRequestAsync(message, response.Body, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && message is JsonRpcRequest request)
        {
            // The client went away: tell the process to stop working on it, as a stdio client would.
            if (_pending.TryRemove(request.Id, out _))
            {
                await SendToProcessAsync(new JsonRpcNotification
                {
                    Method = NotificationMethods.CancelledNotification,
                    Params = new JsonObject
                    {
                        ["requestId"] = JsonSerializer.SerializeToNode(request.Id, McpJsonUtilities.DefaultOptions),
                        ["reason"] = "The HTTP client disconnected.",
                    },
                }).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            Touch();
            if (Interlocked.Decrement(ref _inFlight) == 0 && _draining)
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>Waits until no POST is in flight (each has had its last answer written), for at most <paramref name="timeout"/>.</summary>
    /// <remarks>Only for a session no longer reachable by new requests; used when its process exited, so the errors sent
    /// to pending requests reach their clients before the streams are closed.</remarks>
    public async Task DrainAsync(TimeSpan timeout)
    {
        _draining = true;
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }

        try
        {
            await _drained.Task.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Whatever is still in flight is cut when the session closes.
        }
    }

    /// <summary>Serves the standalone GET stream until the client leaves or the session ends.</summary>
    public async Task HandleGetAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        Touch();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _endedToken);
        try
        {
            await Http.HandleGetRequestAsync(response.Body, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The client closed the stream, or the session ended: both end a GET stream normally.
        }
    }

    private async Task PumpToProcessAsync()
    {
        try
        {
            // No Touch here: every message comes from a POST, which HandlePostAsync has counted as activity; the
            // pump runs later, and would date the activity from when it got to the message.
            await foreach (var message in Http.MessageReader.ReadAllAsync(_endedToken).ConfigureAwait(false))
            {
                if (message is JsonRpcRequest request && message.Context?.RelatedTransport is { } post)
                {
                    _pending[request.Id] = post;
                    if (ProgressToken(request.Params?["_meta"]?["progressToken"]) is { } token)
                    {
                        _progressTokens[token] = request.Id;
                    }

                    // The process may have exited while this request was on its way (one that fails at start does
                    // so before the first request arrives); UpstreamEndedAsync may have looked at the pending
                    // requests before this one was added.
                    if (_exitReason is { } reason && _pending.TryRemove(request.Id, out _))
                    {
                        await TrySendAsync(post, ExitedBeforeAnswering(request.Id, reason)).ConfigureAwait(false);
                        continue;
                    }
                }

                message.Context = null;
                await SendToProcessAsync(message).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_ended.IsCancellationRequested)
        {
        }
    }

    /// <summary>Called when the process is gone: whatever it still owed this session, it will never answer.</summary>
    /// <param name="reason">How it ended, from <see cref="Processes.StdioExit.Describe(Exception)"/>.</param>
    public async Task UpstreamEndedAsync(string reason)
    {
        // A process stopped because its session was ended has not "exited" for anyone.
        if (!_ended.IsCancellationRequested)
        {
            _exitReason = reason;
            LogProcessExited(_logger, Upstream.Server, Id, reason, _pending.Count);
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var post))
                {
                    await TrySendAsync(post, ExitedBeforeAnswering(id, reason)).ConfigureAwait(false);
                }
            }
        }

        _upstreamEnded.TrySetResult();
    }

    private JsonRpcError ExitedBeforeAnswering(RequestId id, string reason) => new()
    {
        Id = id,
        Error = new JsonRpcErrorDetail { Code = JsonRpcErrorCodes.UpstreamUnavailable, Message = $"The MCP server process of '{Upstream.Server}' {reason}, before answering." },
    };

    /// <summary>Takes a message of the process meant for this session to the right stream.</summary>
    public async Task DeliverAsync(JsonRpcMessage message)
    {
        Touch();
        var related = RelatedPost(message);
        if (related is not null)
        {
            await TrySendAsync(related, message).ConfigureAwait(false);
            return;
        }

        try
        {
            await Http.SendMessageAsync(message, _endedToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException) when (message is JsonRpcRequest request)
        {
            // No stream can carry a server request to the client: answer for the client so the server does not hang.
            await SendToProcessAsync(new JsonRpcError
            {
                Id = request.Id,
                Error = new JsonRpcErrorDetail { Code = InternalError, Message = "The client has no open stream to receive this request." },
            }).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // A session-less exchange has no GET stream; an unrelated notification has nowhere to go.
        }
    }

    private ITransport? RelatedPost(JsonRpcMessage message)
    {
        switch (message)
        {
            case JsonRpcMessageWithId answer and (JsonRpcResponse or JsonRpcError):
                ForgetProgressTokens(answer.Id);
                return _pending.TryRemove(answer.Id, out var asker) ? asker : null;
            case JsonRpcNotification { Method: NotificationMethods.ProgressNotification } progress:
                return ProgressToken(progress.Params?["progressToken"]) is { } token && _progressTokens.TryGetValue(token, out var owner)
                    && _pending.TryGetValue(owner, out var post) ? post : null;
            case JsonRpcNotification { Method: "notifications/message" }:
            case JsonRpcRequest:
                return _pending.Count == 1 ? _pending.Values.FirstOrDefault() : null;
            default:
                return null;
        }
    }

    private void ForgetProgressTokens(RequestId id)
    {
        foreach (var (token, owner) in _progressTokens)
        {
            if (owner.Equals(id))
            {
                _progressTokens.TryRemove(token, out _);
            }
        }
    }

    private static string? ProgressToken(JsonNode? token) => token?.ToJsonString();

    private async Task SendToProcessAsync(JsonRpcMessage message)
    {
        try
        {
            await Upstream.SendAsync(this, message, _endedToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Its cause is the process's exit, reported once with its exit code and stderr (UpstreamEndedAsync).
            LogProcessWriteFailed(_logger, Upstream.Server, Id, ex.Message);
        }
    }

    private async Task TrySendAsync(ITransport post, JsonRpcMessage message)
    {
        try
        {
            await post.SendMessageAsync(message, _endedToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The POST it belonged to has ended (client gone); the message has no reader left.
            LogUndeliverable(_logger, Upstream.Server, Id, ex.Message);
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, _timeProvider.GetUtcNow().UtcTicks);

    /// <summary>Ends the session's streams and leaves its process (which stops a dedicated one).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ended.IsCancellationRequested)
        {
            return;
        }

        await _ended.CancelAsync().ConfigureAwait(false);
        await Http.DisposeAsync().ConfigureAwait(false);
        await _toProcess.ConfigureAwait(false);
        await Upstream.DetachAsync(this).ConfigureAwait(false);
        _ended.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The process of server {Server} for session {SessionId} {Reason}; {Pending} pending requests answered with an error.")]
    private static partial void LogProcessExited(ILogger logger, string server, string sessionId, string reason, int pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Writing to the process of server {Server} for session {SessionId} failed: {Reason}")]
    private static partial void LogProcessWriteFailed(ILogger logger, string server, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A message of server {Server} for session {SessionId} could not be delivered: {Reason}")]
    private static partial void LogUndeliverable(ILogger logger, string server, string sessionId, string reason);
}
