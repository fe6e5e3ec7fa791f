using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Gateway.Mcp;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>
/// Upstream tokens in a two-level cache (memory, then the distributed cache when one is configured), one IdP call
/// in flight per key. A token lives until its own expiry less a margin, and never past the caller's token.
/// </summary>
public sealed class UpstreamTokenCache
{
    private const string KeyPrefix = "mcp-gateway:upstream-token:v1:";
    private readonly HybridCache _cache;
    private readonly Dictionary<UpstreamAuthStrategy, IUpstreamTokenIssuer> _issuers;
    private readonly TimeProvider _time;
    private readonly TokenCacheOptions _options;
    private readonly HybridCacheEntryOptions _failureEntry;
    private readonly McpMetrics _metrics;
    private readonly ConcurrentDictionary<string, Lazy<Task<(UpstreamToken, bool)>>> _inFlight = new(StringComparer.Ordinal);

    // Reads the cache without running a factory: a miss is null (and is not stored); a hit in Redis is kept in memory.
    private static readonly HybridCacheEntryOptions ReadOnly = new()
    {
        Flags = HybridCacheEntryFlags.DisableUnderlyingData | HybridCacheEntryFlags.DisableDistributedCacheWrite,
    };

    public UpstreamTokenCache(HybridCache cache, IEnumerable<IUpstreamTokenIssuer> issuers, TimeProvider time, IOptions<TokenCacheOptions> options, McpMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        _cache = cache;
        _metrics = metrics;
        _issuers = issuers.ToDictionary(i => i.Strategy);
        _time = time;
        _options = options.Value;

        // Every entry starts with the failure lifetime: a token's own lifetime is only known once it is issued.
        _failureEntry = new HybridCacheEntryOptions { Expiration = _options.FailureLifetime, LocalCacheExpiration = _options.FailureLifetime };
    }

    /// <summary>A token for the upstream of <paramref name="request"/>, from the cache or freshly issued.</summary>
    public async ValueTask<UpstreamToken> GetAsync(UpstreamTokenRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Options.Strategy.ActsForCaller() && !request.Caller.IsAuthenticated)
        {
            // A token without a subject names nobody the cache could tell apart from others: it is never shared.
            return await UncachedAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var key = KeyOf(request);
        var cached = await _cache.GetOrCreateAsync<UpstreamToken?>(key, static _ => default, ReadOnly, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (cached is { Succeeded: true } && CallerExpiry(request.User) <= _time.GetUtcNow())
        {
            // The entry came from another token of the same caller; this one has expired and is only inside the
            // clock skew. It gets no upstream token the IdP would not give it now: ask, and keep the answer out of the cache.
            return await UncachedAsync(request, cancellationToken).ConfigureAwait(false);
        }

        if (cached is not null)
        {
            _metrics.RecordTokenRequest(request.Server, request.Options.Strategy.Label(), cached.Succeeded ? "hit" : "failed");
            return cached;
        }

        // HybridCache runs one factory per key, but a token's real lifetime is only known once it is issued, and
        // giving the entry that lifetime is a second step. Callers arriving in between join this flight rather than
        // ask the IdP again.
        var flight = _inFlight.GetOrAdd(key, static (k, s) => new Lazy<Task<(UpstreamToken, bool)>>(() => s.Self.AcquireAsync(k, s.Request)), (Self: this, Request: request));
        var (token, issued) = await flight.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        _metrics.RecordTokenRequest(request.Server, request.Options.Strategy.Label(), !token.Succeeded ? "failed" : issued ? "issued" : "hit");
        return token;
    }

    private async ValueTask<UpstreamToken> UncachedAsync(UpstreamTokenRequest request, CancellationToken cancellationToken)
    {
        var own = await new Acquisition(_issuers[request.Options.Strategy], request, _metrics).RunAsync(cancellationToken).ConfigureAwait(false);
        _metrics.RecordTokenRequest(request.Server, request.Options.Strategy.Label(), own.Succeeded ? "issued" : "failed");
        return own;
    }

    /// <summary>
    /// One flight: the IdP asked (at most once, by HybridCache), then the entry given the token's own lifetime. It
    /// leaves the flights when done, whoever still waits, so a later miss starts a new one.
    /// </summary>
    private async Task<(UpstreamToken Token, bool Issued)> AcquireAsync(string key, UpstreamTokenRequest request)
    {
        try
        {
            // Not the caller's cancellation: others may be waiting on this flight.
            var acquisition = new Acquisition(_issuers[request.Options.Strategy], request, _metrics);
            var token = await _cache.GetOrCreateAsync(key, acquisition, static (a, ct) => a.RunAsync(ct), _failureEntry, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            if (acquisition.Ran && token.Succeeded)
            {
                var lifetime = Lifetime(token, request.User);
                if (lifetime > TimeSpan.Zero)
                {
                    await _cache.SetAsync(key, token, new HybridCacheEntryOptions { Expiration = lifetime, LocalCacheExpiration = lifetime }).ConfigureAwait(false);
                }
                else
                {
                    await _cache.RemoveAsync(key).ConfigureAwait(false);
                }
            }

            return (token, acquisition.Ran);
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    /// <summary>The token's expiry less the margin, capped by the caller's own token: an exchanged token must not outlive it.</summary>
    private TimeSpan Lifetime(UpstreamToken token, ClaimsPrincipal user)
    {
        var now = _time.GetUtcNow();
        var lifetime = token.ExpiresAt - _options.SafetyMargin - now;
        if (CallerExpiry(user) is { } expiry && expiry - now < lifetime)
        {
            lifetime = expiry - now;
        }

        return lifetime;
    }

    /// <summary>When the caller's own token expires (its <c>exp</c>), where it says.</summary>
    private static DateTimeOffset? CallerExpiry(ClaimsPrincipal user) =>
        user.FindFirst("exp")?.Value is { } exp && long.TryParse(exp, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    /// <summary>
    /// A hash of who the token is for and what it may do (never the caller's raw token): strategy, server, issuer,
    /// subject, the caller's client, the gateway's client, audience and sorted scopes.
    /// </summary>
    internal static string KeyOf(UpstreamTokenRequest request)
    {
        var options = request.Options;
        var actsForCaller = UpstreamAuthStrategies.ActsForCaller(options.Strategy);
        var caller = actsForCaller ? request.Caller : McpCaller.Anonymous;
        var scopes = options.Scopes.Count switch
        {
            0 => string.Empty,
            1 => options.Scopes[0],
            _ => string.Join(' ', options.Scopes.Order(StringComparer.Ordinal)),
        };

        var material = string.Join('\n', options.Strategy.Label(), request.Server, caller.Issuer, caller.Subject, caller.Client, options.ClientId, options.Audience, scopes);
        return KeyPrefix + Sha256Text.Hex(material);
    }

    /// <summary>One cache miss: runs the issuer and notes that it ran, so the caller can give the entry its real lifetime.</summary>
    private sealed class Acquisition(IUpstreamTokenIssuer issuer, UpstreamTokenRequest request, McpMetrics metrics)
    {
        public bool Ran { get; private set; }

        public async ValueTask<UpstreamToken> RunAsync(CancellationToken cancellationToken)
        {
            Ran = true;
            var started = Stopwatch.GetTimestamp();
            var token = await issuer.IssueAsync(request, cancellationToken).ConfigureAwait(false);
            metrics.RecordTokenAcquisition(request.Options.Strategy.Label(), Stopwatch.GetElapsedTime(started).TotalSeconds, token.Succeeded);
            return token;
        }
    }
}
