using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// What the member of a 2026-07-28 client's call asks of the client (elicitation, sampling, roots). Such a client
/// has no session, so nothing can be sent to it outside an answer: the question goes back as the call's
/// <c>input_required</c> result, and the client's retry, carrying the answer and the request state, resumes the call,
/// which has waited here meanwhile (multi round-trip, SEP-2322).
/// </summary>
/// <remarks>A waiting call is this replica's: a retry that another replica receives is told to call again.</remarks>
internal sealed class ParkedCalls(TimeProvider time) : IDisposable
{
    /// <summary>The key of the one input a parked call waits for.</summary>
    public const string InputKey = "input";

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, PendingCall> _parked = new(StringComparer.Ordinal);

    /// <summary>The call's result; or, when its member asks the client something first, the call parked and an <see cref="InputRequiredException"/>.</summary>
    public async Task<CallToolResult> AwaitAsync(PendingCall call, CancellationToken cancellationToken)
    {
        // While this request of the client's waits, its cancellation is the call's; once parked, the call outlives it.
        using var cancellation = cancellationToken.Register(call.Cancel);
        var asked = call.Inputs.NextAsync();
        if (await Task.WhenAny(call.Result, asked).ConfigureAwait(false) == call.Result)
        {
            call.Dispose();
            return await call.Result.ConfigureAwait(false);
        }

        var (input, answer) = await asked.ConfigureAwait(false);
        var state = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        call.Park(answer, time.CreateTimer(_ => Expire(state), null, Patience, Timeout.InfiniteTimeSpan));
        _parked[state] = call;
        throw new InputRequiredException(new Dictionary<string, InputRequest> { [InputKey] = input }, state);
    }

    /// <summary>Resumes the call parked under <paramref name="state"/> with the client's answer.</summary>
    public Task<CallToolResult> ResumeAsync(string state, IDictionary<string, InputResponse>? responses, CancellationToken cancellationToken)
    {
        if (!_parked.TryRemove(state, out var call))
        {
            throw new McpProtocolException(
                "The call's request state is not known here: it waited too long, was answered already, or another replica holds it. Call the tool again.", McpErrorCode.InvalidParams);
        }

        call.Answer(responses?.TryGetValue(InputKey, out var response) == true ? response : null);
        return AwaitAsync(call, cancellationToken);
    }

    public void Dispose()
    {
        foreach (var state in _parked.Keys)
        {
            Expire(state);
        }
    }

    private void Expire(string state)
    {
        if (_parked.TryRemove(state, out var call))
        {
            call.Cancel();
            call.Dispose();
        }
    }
}

/// <summary>A client's call to a member that may have to wait for the client's answers.</summary>
internal sealed class PendingCall : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private TaskCompletionSource<InputResponse>? _answer;
    private ITimer? _expiry;

    public PendingCall(Func<MemberInputs, CancellationToken, Task<CallToolResult>> call)
    {
        Result = call(Inputs, _cancellation.Token);
    }

    /// <summary>What the member asks of the client while the call runs.</summary>
    public MemberInputs Inputs { get; } = new();

    public Task<CallToolResult> Result { get; }

    public void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call has ended.
        }
    }

    public void Park(TaskCompletionSource<InputResponse> answer, ITimer expiry)
    {
        _answer = answer;
        _expiry = expiry;
    }

    public void Answer(InputResponse? response)
    {
        _expiry?.Dispose();
        if (response is null)
        {
            _answer?.TrySetException(new McpProtocolException($"The retry carries no input response '{ParkedCalls.InputKey}'.", McpErrorCode.InvalidParams));
        }
        else
        {
            _answer?.TrySetResult(response);
        }
    }

    public void Dispose()
    {
        // The member's question is not left waiting on an answer that will not come.
        _answer?.TrySetCanceled();
        _expiry?.Dispose();
        _cancellation.Dispose();
    }
}

/// <summary>The questions a member asks the client during one call, one at a time.</summary>
internal sealed class MemberInputs
{
    private readonly Channel<(InputRequest Request, TaskCompletionSource<InputResponse> Answer)> _asked =
        Channel.CreateUnbounded<(InputRequest, TaskCompletionSource<InputResponse>)>(new UnboundedChannelOptions { SingleReader = true });

    public async Task<InputResponse> AskAsync(InputRequest request, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<InputResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _asked.Writer.WriteAsync((request, answer), cancellationToken).ConfigureAwait(false);
        return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<(InputRequest Request, TaskCompletionSource<InputResponse> Answer)> NextAsync() => _asked.Reader.ReadAsync().AsTask();
}
