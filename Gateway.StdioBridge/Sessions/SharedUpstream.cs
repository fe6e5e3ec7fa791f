using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.StdioBridge.Processes;
using ModelContextProtocol.Protocol;

namespace Gateway.StdioBridge.Sessions;

/// <summary>
/// One process serving every session of a <c>shared</c> server. Sessions' request ids and progress tokens are renamed
/// on the way in, so that two clients' ids never meet in the process, and named back on the way out.
/// </summary>
/// <remarks>
/// The process is initialized once, by the first session's <c>initialize</c>; later sessions get the same answer.
/// Requests the server makes go to the only session with a request in flight (or the only session), and are refused
/// when that is ambiguous; notifications that answer no request go to every session.
/// </remarks>
internal sealed partial class SharedUpstream : IStdioUpstream
{
    private const int InternalError = -32603;
    private readonly StdioProcess _process;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<StdioSession, byte> _sessions = new();
    private readonly ConcurrentDictionary<long, (StdioSession Session, RequestId Id, bool Initialize)> _requests = new();
    private readonly ConcurrentDictionary<string, (StdioSession Session, JsonNode Token)> _progressTokens = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<JsonNode?> _initializeResult = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextId;
    private int _initializeSent;
    private int _initializedSent;

    public SharedUpstream(StdioProcess process, ILogger logger)
    {
        _process = process;
        _logger = logger;
        _process.SessionId = "shared";
        Ended = PumpAsync();
    }

    public string Server => _process.Server;

    public StdioProcess Process => _process;

    /// <summary>Completes when the process has exited and every session was told.</summary>
    public Task Ended { get; }

    public void Attach(StdioSession session) => _sessions[session] = 0;

    public ValueTask DetachAsync(StdioSession session)
    {
        _sessions.TryRemove(session, out _);
        return ValueTask.CompletedTask;
    }

    public async Task SendAsync(StdioSession from, JsonRpcMessage message, CancellationToken cancellationToken)
    {
        switch (message)
        {
            case JsonRpcRequest { Method: RequestMethods.Initialize } initialize when Interlocked.Exchange(ref _initializeSent, 1) == 1:
                var result = await _initializeResult.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                await from.DeliverAsync(new JsonRpcResponse { Id = initialize.Id, Result = result?.DeepClone() }).ConfigureAwait(false);
                return;
            case JsonRpcNotification { Method: NotificationMethods.InitializedNotification } when Interlocked.Exchange(ref _initializedSent, 1) == 1:
                return;
            case JsonRpcRequest request:
                var id = Interlocked.Increment(ref _nextId);
                _requests[id] = (from, request.Id, request.Method == RequestMethods.Initialize);
                request.Id = new RequestId(id);
                if (request.Params?["_meta"] is JsonObject meta && meta["progressToken"] is { } token)
                {
                    var shared = "p" + id.ToString(CultureInfo.InvariantCulture);
                    _progressTokens[shared] = (from, token.DeepClone());
                    meta["progressToken"] = shared;
                }

                break;
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification, Params: JsonObject cancelled }:
                if (SharedIdOf(from, cancelled["requestId"]) is { } sharedId)
                {
                    cancelled["requestId"] = sharedId;
                }

                break;
        }

        await _process.Connection.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private long? SharedIdOf(StdioSession session, JsonNode? original)
    {
        foreach (var (id, owner) in _requests)
        {
            if (owner.Session == session && string.Equals(owner.Id.ToString(), original?.ToString(), StringComparison.Ordinal))
            {
                return id;
            }
        }

        return null;
    }

    private async Task PumpAsync()
    {
        Exception? ended = null;
        try
        {
            await foreach (var message in _process.Connection.MessageReader.ReadAllAsync().ConfigureAwait(false))
            {
                await RouteAsync(message).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            ended = ex;
        }

        var reason = StdioExit.Describe(ended);
        if (ended is not null)
        {
            LogProcessEnded(_logger, _process.Server, reason);
        }

        _initializeResult.TrySetException(new IOException($"The shared process of '{_process.Server}' {reason}."));
        foreach (var session in _sessions.Keys)
        {
            await session.UpstreamEndedAsync(reason).ConfigureAwait(false);
        }
    }

    private async Task RouteAsync(JsonRpcMessage message)
    {
        switch (message)
        {
            case JsonRpcMessageWithId answer and (JsonRpcResponse or JsonRpcError):
                if (answer.Id.Id is long id && _requests.TryRemove(id, out var owner))
                {
                    ForgetProgressToken(id);
                    if (owner.Initialize)
                    {
                        _initializeResult.TrySetResult((answer as JsonRpcResponse)?.Result?.DeepClone());
                    }

                    answer.Id = owner.Id;
                    await owner.Session.DeliverAsync(answer).ConfigureAwait(false);
                }

                return;
            case JsonRpcNotification { Method: NotificationMethods.ProgressNotification, Params: JsonObject progress }:
                if (progress["progressToken"]?.ToString() is { } token && _progressTokens.TryGetValue(token, out var tokenOwner))
                {
                    progress["progressToken"] = tokenOwner.Token.DeepClone();
                    await tokenOwner.Session.DeliverAsync(message).ConfigureAwait(false);
                }

                return;
            case JsonRpcRequest serverRequest:
                if (AddresseeOf() is { } addressee)
                {
                    await addressee.DeliverAsync(serverRequest).ConfigureAwait(false);
                }
                else
                {
                    await _process.Connection.SendMessageAsync(new JsonRpcError
                    {
                        Id = serverRequest.Id,
                        Error = new JsonRpcErrorDetail { Code = InternalError, Message = "A shared server cannot tell which client this request is for." },
                    }).ConfigureAwait(false);
                }

                return;
            default:
                foreach (var session in _sessions.Keys)
                {
                    await session.DeliverAsync(message).ConfigureAwait(false);
                }

                return;
        }
    }

    private StdioSession? AddresseeOf()
    {
        var asking = _requests.Values.Select(r => r.Session).Distinct().Take(2).ToList();
        return asking.Count == 1 ? asking[0] : asking.Count == 0 && _sessions.Count == 1 ? _sessions.Keys.First() : null;
    }

    private void ForgetProgressToken(long id) => _progressTokens.TryRemove("p" + id.ToString(CultureInfo.InvariantCulture), out _);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The shared process of server {Server} {Reason}.")]
    private static partial void LogProcessEnded(ILogger logger, string server, string reason);
}
