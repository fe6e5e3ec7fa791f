using System.Text.Json;
using Gateway.Transforms.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// The pins in Redis, a hash per server (<c>v</c> its version, <c>s</c> the pins as JSON), replaced by one script
/// only if no other replica wrote since it was read; each save is announced on a channel so that the other replicas
/// reload at once. Behind <see cref="RedisCircuit"/>: while Redis is down, loads and saves fail at once.
/// </summary>
internal sealed partial class RedisToolPinStore : IToolPinStore
{
    private const string SaveScript = """
        local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
        if version ~= tonumber(ARGV[1]) then return -1 end
        redis.call('HSET', KEYS[1], 'v', version + 1, 's', ARGV[2])
        redis.call('PUBLISH', ARGV[3], ARGV[4])
        return version + 1
        """;

    private readonly Task<IConnectionMultiplexer> _redis;
    private readonly RedisCircuit _circuit;
    private readonly string _prefix;
    private readonly RedisChannel _channel;
    private readonly ILogger _logger;

    // Announcements of this replica's own saves are not news to it.
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private volatile bool _subscribed;

    public RedisToolPinStore(Task<IConnectionMultiplexer> redis, string keyPrefix, TimeProvider time, ILogger logger)
    {
        _redis = redis;
        _prefix = keyPrefix + ":";
        _channel = RedisChannel.Literal(keyPrefix + ":changed");
        _circuit = new RedisCircuit("Tool pins", time, logger);
        _logger = logger;
        _ = SubscribeAsync();
    }

    public event Action<string?>? ChangedElsewhere;

    public async ValueTask<StoredToolPins?> LoadAsync(string server, CancellationToken cancellationToken)
    {
        var (succeeded, values) = await _circuit.TryRunAsync(
            // WaitAsync: the circuit's timeout only ends what observes its token.
            static async (s, ct) => await (await s.Redis.ConfigureAwait(false)).GetDatabase().HashGetAsync(s.Key, ["v", "s"]).WaitAsync(ct).ConfigureAwait(false),
            (Redis: _redis, Key: new RedisKey(_prefix + server)),
            cancellationToken).ConfigureAwait(false);
        if (!succeeded || values is null)
        {
            return null;
        }

        if (!_subscribed)
        {
            // Redis was down when the gateway started: announcements are heard from the first read that works.
            _ = TrySubscribeAsync(await _redis.ConfigureAwait(false));
        }

        var version = values[0].TryParse(out long v) ? v : 0;
        try
        {
            var pins = values[1].HasValue ? JsonSerializer.Deserialize((byte[])values[1]!, ToolPinsJsonContext.Default.ServerToolPins) : null;
            return new StoredToolPins(pins ?? ServerToolPins.Empty, version);
        }
        catch (JsonException ex)
        {
            // Written by another version, or by hand: not taken as no pins, which would trust every tool again.
            LogUnreadable(_logger, server, ex.Message);
            return null;
        }
    }

    public async ValueTask<ToolPinSave> SaveAsync(string server, ServerToolPins pins, long version, CancellationToken cancellationToken)
    {
        var (succeeded, result) = await _circuit.TryRunAsync(
            static async (s, ct) => (long)await (await s.Redis.ConfigureAwait(false)).GetDatabase().ScriptEvaluateAsync(
                SaveScript, [s.Key], [s.Version, s.Json, s.Channel, s.Message]).WaitAsync(ct).ConfigureAwait(false),
            (Redis: _redis, Key: new RedisKey(_prefix + server), Version: version, Json: JsonSerializer.SerializeToUtf8Bytes(pins, ToolPinsJsonContext.Default.ServerToolPins),
                Channel: _channel.ToString(), Message: _instance + "\n" + server),
            cancellationToken).ConfigureAwait(false);
        return !succeeded ? ToolPinSave.Unavailable : result < 0 ? ToolPinSave.Conflict : ToolPinSave.Saved(result);
    }

    private async Task SubscribeAsync()
    {
        IConnectionMultiplexer redis;
        try
        {
            redis = await _redis.ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // No connection at all (a connection string it cannot use): loads and saves report it.
            return;
        }

        redis.ConnectionRestored += (_, _) =>
        {
            // Announcements missed while disconnected: every server may have changed.
            if (!_subscribed)
            {
                _ = TrySubscribeAsync(redis);
            }

            ChangedElsewhere?.Invoke(null);
        };
        await TrySubscribeAsync(redis).ConfigureAwait(false);
    }

    private async Task TrySubscribeAsync(IConnectionMultiplexer redis)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(_channel, (_, message) =>
            {
                var text = (string?)message;
                var newline = text?.IndexOf('\n', StringComparison.Ordinal) ?? -1;
                if (newline > 0 && !text.AsSpan(0, newline).SequenceEqual(_instance))
                {
                    ChangedElsewhere?.Invoke(text![(newline + 1)..]);
                }
            }).ConfigureAwait(false);
            _subscribed = true;
        }
        catch (RedisException)
        {
            // Redis is down: subscribed when the connection is restored (once made, the client renews it itself).
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Tool pins: the pins of {Server} in Redis cannot be read ({Detail}); the pins in memory stay in force.")]
    private static partial void LogUnreadable(ILogger logger, string server, string detail);
}
