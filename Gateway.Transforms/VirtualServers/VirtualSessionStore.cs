using System.Collections.Concurrent;
using Gateway.Mcp;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// What a virtual session needs on any replica: who started it and how (the client's initialize), and each member's
/// session. In the Redis the replicas share when the gateway has one, else in this process.
/// </summary>
internal sealed partial class VirtualSessionStore(VirtualSessionStore.IHashes hashes, ILogger<VirtualSessionStore> logger)
{
    private const string SessionField = "session";
    private const string MemberPrefix = "member:";

    /// <summary>Whether other replicas read this store: a store only this process reads is emptied as its sessions end.</summary>
    public bool Shared => hashes.Shared;

    public Task SaveSessionAsync(string sessionId, VirtualSessionRecord record, CancellationToken cancellationToken) =>
        SetAsync(sessionId, SessionField, record.ToJson(), cancellationToken);

    public async Task<VirtualSessionRecord?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        await GetAsync(sessionId, SessionField, cancellationToken).ConfigureAwait(false) is { } json ? VirtualSessionRecord.FromJson(json) : null;

    public Task SaveMemberAsync(string sessionId, string member, MemberSessionState state, CancellationToken cancellationToken) =>
        SetAsync(sessionId, MemberPrefix + member.ToLowerInvariant(), state.ToJson(), cancellationToken);

    public async Task<MemberSessionState?> LoadMemberAsync(string sessionId, string member, CancellationToken cancellationToken) =>
        await GetAsync(sessionId, MemberPrefix + member.ToLowerInvariant(), cancellationToken).ConfigureAwait(false) is { } json ? MemberSessionState.FromJson(json) : null;

    public Task RemoveMemberAsync(string sessionId, string member, CancellationToken cancellationToken) =>
        Guarded(() => hashes.DeleteAsync(KeyOf(sessionId), MemberPrefix + member.ToLowerInvariant(), cancellationToken));

    public Task RemoveAsync(string sessionId, CancellationToken cancellationToken) => Guarded(() => hashes.DeleteAllAsync(KeyOf(sessionId), cancellationToken));

    /// <summary>Keeps a session's entry for another lifetime from now (it is in use).</summary>
    public Task RefreshAsync(string sessionId, CancellationToken cancellationToken) => Guarded(() => hashes.RefreshAsync(KeyOf(sessionId), cancellationToken));

    // The session id is the client's credential for the session: only its hash names the entry.
    private static string KeyOf(string sessionId) => Sha256Text.Hex(sessionId, bytes: 16);

    private Task SetAsync(string sessionId, string field, string value, CancellationToken cancellationToken) =>
        Guarded(() => hashes.SetAsync(KeyOf(sessionId), field, value, cancellationToken));

    private async Task<string?> GetAsync(string sessionId, string field, CancellationToken cancellationToken)
    {
        try
        {
            return await hashes.GetAsync(KeyOf(sessionId), field, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogStoreFailed(logger, ex.Message);
            return null;
        }
    }

    // Without the store a session still works on the replica that holds it; only continuing elsewhere is lost.
    private async Task Guarded(Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogStoreFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Virtual sessions: the store failed ({Reason}); sessions go on here, but another replica cannot continue them.")]
    private static partial void LogStoreFailed(ILogger logger, string reason);

    /// <summary>One hash of fields per session.</summary>
    internal interface IHashes
    {
        bool Shared { get; }

        Task SetAsync(string key, string field, string value, CancellationToken cancellationToken);

        Task<string?> GetAsync(string key, string field, CancellationToken cancellationToken);

        Task DeleteAsync(string key, string field, CancellationToken cancellationToken);

        Task DeleteAllAsync(string key, CancellationToken cancellationToken);

        Task RefreshAsync(string key, CancellationToken cancellationToken);
    }

    /// <summary>In this process only.</summary>
    internal sealed class MemoryHashes : IHashes
    {
        private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string>> _hashes = new(StringComparer.Ordinal);

        public bool Shared => false;

        public Task SetAsync(string key, string field, string value, CancellationToken cancellationToken)
        {
            _hashes.GetOrAdd(key, static _ => new(StringComparer.Ordinal))[field] = value;
            return Task.CompletedTask;
        }

        public Task<string?> GetAsync(string key, string field, CancellationToken cancellationToken) =>
            Task.FromResult(_hashes.TryGetValue(key, out var hash) ? hash.GetValueOrDefault(field) : null);

        public Task DeleteAsync(string key, string field, CancellationToken cancellationToken)
        {
            if (_hashes.TryGetValue(key, out var hash))
            {
                hash.TryRemove(field, out _);
            }

            return Task.CompletedTask;
        }

        public Task DeleteAllAsync(string key, CancellationToken cancellationToken)
        {
            _hashes.TryRemove(key, out _);
            return Task.CompletedTask;
        }

        // Entries here end with their sessions.
        public Task RefreshAsync(string key, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A Redis hash per session, expiring a session lifetime after its last write.</summary>
    internal sealed class RedisHashes(Task<IConnectionMultiplexer> connection, string prefix, TimeSpan lifetime) : IHashes
    {
        public bool Shared => true;

        public async Task SetAsync(string key, string field, string value, CancellationToken cancellationToken)
        {
            var database = await DatabaseAsync().ConfigureAwait(false);
            var redisKey = (RedisKey)(prefix + key);
            await database.HashSetAsync(redisKey, field, value).ConfigureAwait(false);
            await database.KeyExpireAsync(redisKey, lifetime).ConfigureAwait(false);
        }

        public async Task<string?> GetAsync(string key, string field, CancellationToken cancellationToken) =>
            await (await DatabaseAsync().ConfigureAwait(false)).HashGetAsync(prefix + key, field).ConfigureAwait(false);

        public async Task DeleteAsync(string key, string field, CancellationToken cancellationToken) =>
            await (await DatabaseAsync().ConfigureAwait(false)).HashDeleteAsync(prefix + key, field).ConfigureAwait(false);

        public async Task DeleteAllAsync(string key, CancellationToken cancellationToken) =>
            await (await DatabaseAsync().ConfigureAwait(false)).KeyDeleteAsync(prefix + key).ConfigureAwait(false);

        public async Task RefreshAsync(string key, CancellationToken cancellationToken) =>
            await (await DatabaseAsync().ConfigureAwait(false)).KeyExpireAsync(prefix + key, lifetime).ConfigureAwait(false);

        private async Task<IDatabase> DatabaseAsync() => (await connection.ConfigureAwait(false)).GetDatabase();
    }
}

/// <summary>Who started a virtual session, on which virtual server, with which initialize.</summary>
internal sealed record VirtualSessionRecord(string VirtualServer, string Owner, string Initialize)
{
    public string ToJson() => new System.Text.Json.Nodes.JsonObject { ["server"] = VirtualServer, ["owner"] = Owner, ["initialize"] = Initialize }.ToJsonString();

    public static VirtualSessionRecord? FromJson(string json)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(json) is System.Text.Json.Nodes.JsonObject o
                && o["server"]?.GetValue<string>() is { } server && o["owner"]?.GetValue<string>() is { } owner && o["initialize"]?.GetValue<string>() is { } initialize
                ? new VirtualSessionRecord(server, owner, initialize)
                : null;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
