using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace Gateway.Transforms.Redis;

/// <summary>
/// Calls to Redis behind a circuit breaker and a short timeout: while Redis is unreachable, calls fail at once and the
/// caller falls back to this replica's memory instead of waiting on timeouts. Opening and closing are logged.
/// </summary>
internal sealed partial class RedisCircuit
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(1);
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly string _purpose;
    private readonly ILogger _logger;

    /// <param name="purpose">What Redis is used for here, as the logs name it (e.g. <c>Token cache</c>).</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Where opening, closing and failures are logged.</param>
    public RedisCircuit(string purpose, TimeProvider time, ILogger logger)
    {
        _purpose = purpose;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromSeconds(15),
                StateProvider = _state,
                ShouldHandle = new PredicateBuilder().Handle<RedisException>().Handle<TimeoutRejectedException>().Handle<TimeoutException>(),
                OnOpened = args =>
                {
                    LogOpened(_logger, _purpose, args.BreakDuration, args.Outcome.Exception?.Message);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    LogClosed(_logger, _purpose);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(OperationTimeout)
            .Build();
    }

    /// <summary>
    /// Connection settings for a Redis behind this circuit: an unreachable Redis neither stops start-up nor queues
    /// commands (they fail at once, and the circuit opens).
    /// </summary>
    public static ConfigurationOptions ConnectionOptions(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return options;
    }

    /// <summary>Whether Redis is in use; false while the circuit is open.</summary>
    public bool Available => _state.CircuitState is CircuitState.Closed or CircuitState.HalfOpen;

    /// <summary>Runs <paramref name="operation"/> on Redis; false when Redis failed or the circuit is open.</summary>
    public async ValueTask<(bool Succeeded, T? Value)> TryRunAsync<TState, T>(Func<TState, CancellationToken, ValueTask<T>> operation, TState state, CancellationToken cancellationToken)
    {
        try
        {
            var value = await _pipeline.ExecuteAsync(static (s, ct) => s.Operation(s.State, ct), (Operation: operation, State: state), cancellationToken).ConfigureAwait(false);
            return (true, value);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            return (false, default);
        }
    }

    /// <summary>The synchronous twin of <see cref="TryRunAsync"/>, for callers whose API is synchronous.</summary>
    public (bool Succeeded, T? Value) TryRun<TState, T>(Func<TState, T> operation, TState state)
    {
        try
        {
            return (true, _pipeline.Execute(static (s, _) => s.Operation(s.State), (Operation: operation, State: state), CancellationToken.None));
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            return (false, default);
        }
    }

    /// <summary>Whether <paramref name="ex"/> means Redis is not usable now (logged, unless the circuit is already open).</summary>
    private bool IsRedisFailure(Exception ex)
    {
        if (ex is not (BrokenCircuitException or RedisException or TimeoutRejectedException or TimeoutException))
        {
            return false;
        }

        if (ex is not BrokenCircuitException)
        {
            LogFailed(_logger, _purpose, ex.Message);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Purpose}: Redis failed ({Detail}); serving from memory.")]
    private static partial void LogFailed(ILogger logger, string purpose, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Purpose}: Redis is unreachable; this replica works from its own memory for the next {BreakDuration}. {Detail}")]
    private static partial void LogOpened(ILogger logger, string purpose, TimeSpan breakDuration, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Purpose}: Redis is reachable again.")]
    private static partial void LogClosed(ILogger logger, string purpose);
}
