using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace Gateway.Transforms.Resilience;

/// <summary>
/// One circuit breaker per upstream destination (Polly), created on first use with its server's thresholds and
/// replaced when they change; those of destinations that left the routes are dropped (<see cref="Retain"/>).
/// </summary>
internal sealed partial class DestinationCircuitBreakers
{
    private readonly ConcurrentDictionary<(string Server, string Destination), DestinationCircuitBreaker> _breakers = new();
    private readonly TimeProvider _time;
    private readonly ILogger<DestinationCircuitBreakers> _logger;

    public DestinationCircuitBreakers(TimeProvider time, IMeterFactory meters, ILogger<DestinationCircuitBreakers> logger)
    {
        _time = time;
        _logger = logger;
        meters.Create(McpMetrics.MeterName).CreateObservableGauge(
            "mcp.gateway.circuit.state", ObserveStates, "{state}", "Circuit state per upstream destination: 0 closed, 1 half-open, 2 open.");
    }

    /// <summary>The breaker of <paramref name="destination"/> of <paramref name="server"/>, for the thresholds in force.</summary>
    public DestinationCircuitBreaker For(string server, string destination, CircuitBreakerOptions options)
    {
        var key = (server, destination);
        while (true)
        {
            if (_breakers.TryGetValue(key, out var breaker))
            {
                // Thresholds are compared by value; new ones start a fresh breaker in the old one's place.
                if (breaker.Options == options)
                {
                    return breaker;
                }

                var replacement = Create(server, destination, options);
                if (_breakers.TryUpdate(key, replacement, breaker))
                {
                    return replacement;
                }
            }
            else
            {
                var created = Create(server, destination, options);
                if (_breakers.TryAdd(key, created))
                {
                    return created;
                }
            }
        }
    }

    /// <summary>Drops the breakers of the destinations <paramref name="isConfigured"/> no longer knows.</summary>
    public void Retain(Func<string, string, bool> isConfigured)
    {
        ArgumentNullException.ThrowIfNull(isConfigured);
        foreach (var key in _breakers.Keys)
        {
            if (!isConfigured(key.Server, key.Destination))
            {
                _breakers.TryRemove(key, out _);
            }
        }
    }

    /// <summary>The breakers in use, for the admin API.</summary>
    public IEnumerable<DestinationCircuitBreaker> All => _breakers.Values;

    private DestinationCircuitBreaker Create(string server, string destination, CircuitBreakerOptions options)
    {
        var state = new CircuitBreakerStateProvider();
        var breaker = new DestinationCircuitBreaker(server, destination, options, state, _time);
        breaker.Pipeline = new ResiliencePipelineBuilder<bool> { TimeProvider = _time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<bool>
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                StateProvider = state,

                // The callback's result says whether the upstream failed; an exception out of the proxy is a failure too.
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is not null || args.Outcome.Result),
                OnOpened = args =>
                {
                    breaker.OpenedUntil = _time.GetUtcNow() + args.BreakDuration;
                    LogOpened(_logger, server, destination, args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    LogHalfOpened(_logger, server, destination);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    LogClosed(_logger, server, destination);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        return breaker;
    }

    private IEnumerable<Measurement<int>> ObserveStates() =>
        _breakers.Values.Select(b => new Measurement<int>(
            b.State switch { CircuitState.Open or CircuitState.Isolated => 2, CircuitState.HalfOpen => 1, _ => 0 },
            new KeyValuePair<string, object?>(McpMetrics.ServerTag, b.Server),
            new KeyValuePair<string, object?>("server.address", b.Destination)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit of server {Server} destination {Destination} opened for {BreakDuration}: it failed too often; its requests are refused meanwhile.")]
    private static partial void LogOpened(ILogger logger, string server, string destination, TimeSpan breakDuration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit of server {Server} destination {Destination} half-open: one request probes it.")]
    private static partial void LogHalfOpened(ILogger logger, string server, string destination);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit of server {Server} destination {Destination} closed: it answers again.")]
    private static partial void LogClosed(ILogger logger, string server, string destination);
}

/// <summary>The circuit of one destination.</summary>
internal sealed class DestinationCircuitBreaker(string server, string destination, CircuitBreakerOptions options, CircuitBreakerStateProvider state, TimeProvider time)
{
    public string Server { get; } = server;

    public string Destination { get; } = destination;

    /// <summary>The thresholds it was built with.</summary>
    public CircuitBreakerOptions Options { get; } = options;

    public ResiliencePipeline<bool> Pipeline { get; set; } = ResiliencePipeline<bool>.Empty;

    public CircuitState State => state.CircuitState;

    /// <summary>Until when the open circuit refuses requests; after it, the next request is the half-open probe.</summary>
    public DateTimeOffset OpenedUntil { get; set; }

    /// <summary>Whether a request may be sent: closed, half-open, or open with its break over (that request probes).</summary>
    public bool Admits => State is CircuitState.Closed or CircuitState.HalfOpen || (State == CircuitState.Open && time.GetUtcNow() >= OpenedUntil);

    /// <summary>How long until the circuit lets a probe through.</summary>
    public TimeSpan RetryAfter
    {
        get
        {
            var left = OpenedUntil - time.GetUtcNow();
            return left > TimeSpan.Zero ? left : TimeSpan.FromSeconds(1);
        }
    }
}
