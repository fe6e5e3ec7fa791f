using System.Net;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// One member's session within a virtual session: opened on first use (or resumed from what another replica
/// stored), through the member's own route, and left to the member when the virtual session ends otherwise than by
/// the client's DELETE.
/// </summary>
internal sealed class MemberSession(VirtualSession session, string member) : IAsyncDisposable
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private readonly List<MemberCall> _calls = [];
    private McpClient? _client;
    private int _watching;
    private bool _disposed;

    public string Name { get; } = member;

    /// <summary>The session id the member route issued; null until opened.</summary>
    public string? SessionId => _client?.SessionId;

    public bool IsOpen => _client is not null;

    /// <summary>The open client; null until the session is opened.</summary>
    public McpClient? Client => _client;

    /// <summary>The open client, opening (or resuming) the member's session on first use.</summary>
    public async ValueTask<McpClient> ClientAsync(CancellationToken cancellationToken)
    {
        if (_client is { Completion.IsCompleted: false } open)
        {
            return open;
        }

        await _opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { Completion.IsCompleted: true } ended)
            {
                // Its session ended under it (the member forgot it, its stream gave up): a new one is opened.
                _client = null;
                await ended.DisposeAsync().ConfigureAwait(false);
            }

            _client ??= await session.OpenMemberAsync(this, cancellationToken).ConfigureAwait(false);
            if (Volatile.Read(ref _disposed))
            {
                // The session ended while this one opened: nothing else would end it.
                await DisposeAsync().ConfigureAwait(false);
                throw new ObjectDisposedException(nameof(MemberSession));
            }

            return _client;
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <summary>Forgets a session the member no longer knows (404), so that the next use opens a new one; false when another use already did.</summary>
    public async ValueTask<bool> ResetAsync(McpClient stale)
    {
        if (Interlocked.CompareExchange(ref _client, null, stale) != stale)
        {
            return false;
        }

        await stale.DisposeAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>Notes that the member failed; true when this is the one that should start watching for its return.</summary>
    public bool MarkUnavailable() => Interlocked.Exchange(ref _watching, 1) == 0;

    public void WatchEnded() => Volatile.Write(ref _watching, 0);

    /// <summary>
    /// Marks a client request in flight to this member, so that what the member asks of the client goes on its
    /// stream, or (<paramref name="inputs"/>, for a client without a session) back as the call's input_required result.
    /// </summary>
    public IDisposable Calling(McpServer caller, MemberInputs? inputs = null)
    {
        var call = new MemberCall(this, caller, inputs);
        lock (_calls)
        {
            _calls.Add(call);
        }

        return call;
    }

    /// <summary>
    /// The inputs of the one client request in flight to this member that waits on inputs of its own (a session-less
    /// call); null when there is none, or more than one, since a member's question names no request of the client's.
    /// </summary>
    public MemberInputs? SoleInputs
    {
        get
        {
            lock (_calls)
            {
                var waiting = _calls.Where(c => c.Inputs is not null).Take(2).ToList();
                return waiting.Count == 1 ? waiting[0].Inputs : null;
            }
        }
    }

    /// <summary>Whether requests of session-less calls are in flight to this member.</summary>
    public bool HasInputCalls
    {
        get
        {
            lock (_calls)
            {
                return _calls.Any(c => c.Inputs is not null);
            }
        }
    }

    /// <summary>The newest client request in flight to this member, else null: the session's own stream then carries what it asks.</summary>
    public MemberCall? LatestCall
    {
        get
        {
            lock (_calls)
            {
                return _calls.Count > 0 ? _calls[^1] : null;
            }
        }
    }

    /// <summary>
    /// Whether the member route answered 404 to the session's request: as the HTTP failure itself, or as the SDK's
    /// closed transport (it ends a session it got a 404 for, and every request after that fails so).
    /// </summary>
    public static bool IsSessionGone(Exception exception) => exception switch
    {
        HttpRequestException { StatusCode: HttpStatusCode.NotFound } => true,
        ClientTransportClosedException { Details: HttpClientCompletionDetails { HttpStatusCode: HttpStatusCode.NotFound } } => true,
        { InnerException: { } inner } => IsSessionGone(inner),
        _ => false,
    };

    public async ValueTask DisposeAsync()
    {
        // The gate stays: an opening under way still releases it.
        Volatile.Write(ref _disposed, true);
        if (Interlocked.Exchange(ref _client, null) is { } client)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A client request in flight to the member.</summary>
    internal sealed class MemberCall(MemberSession member, McpServer caller, MemberInputs? inputs) : IDisposable
    {
        public McpServer Caller { get; } = caller;

        public MemberInputs? Inputs { get; } = inputs;

        public void Dispose()
        {
            lock (member._calls)
            {
                member._calls.Remove(this);
            }
        }
    }
}
