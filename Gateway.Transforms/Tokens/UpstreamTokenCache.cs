using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;

namespace Gateway.Transforms.Tokens;

/// <summary>
/// Upstream tokens in a two-level cache (memory, then the distributed cache when one is configured), one IdP call
/// in flight per key. A token lives until its own expiry less a margin, and never past the caller's token.
/// </summary>
public sealed class UpstreamTokenCache
{
    private const string KeyPrefix = "mcp-gateway:upstream-token:v1:";
    private readonly HybridCache _cache;
    private readonly Dictionary<string, IUpstreamTokenIssuer> _issuers;
    private readonly TimeProvider _time;
    private readonly UpstreamTokenCacheOptions _options;
    private readonly HybridCacheEntryOptions _failureEntry;
    private readonly McpMetrics _metrics;

    public UpstreamTokenCache(HybridCache cache, IEnumerable<IUpstreamTokenIssuer> issuers, TimeProvider time, IOptions<UpstreamTokenCacheOptions> options, McpMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        _cache = cache;
        _metrics = metrics;
        _issuers = issuers.ToDictionary(i => i.Strategy, StringComparer.Ordinal);
        _time = time;
        _options = options.Value;

        // Every entry starts with the failure lifetime: a token's own lifetime is only known once it is issued.
        _failureEntry = new HybridCacheEntryOptions { Expiration = _options.FailureLifetime, LocalCacheExpiration = _options.FailureLifetime };
    }

    /// <summary>Whether an issuer is registered for <paramref name="strategy"/> (<c>obo</c> needs Entra configured).</summary>
    public bool CanIssue(string strategy) => _issuers.ContainsKey(strategy);

    /// <summary>A token for the upstream of <paramref name="request"/>, from the cache or freshly issued.</summary>
    public async ValueTask<UpstreamToken> GetAsync(UpstreamTokenRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var issuer = _issuers[request.Options.Strategy];
        var key = KeyOf(request);
        var acquisition = new Acquisition(issuer, request, _metrics);
        var token = await _cache.GetOrCreateAsync(key, acquisition, static (a, ct) => a.RunAsync(ct), _failureEntry, cancellationToken: cancellationToken).ConfigureAwait(false);
        _metrics.RecordTokenRequest(request.Server, request.Options.Strategy, !token.Succeeded ? "failed" : acquisition.Ran ? "issued" : "hit");

        if (acquisition.Ran && token.Succeeded)
        {
            var lifetime = Lifetime(token, request.User);
            if (lifetime > TimeSpan.Zero)
            {
                await _cache.SetAsync(key, token, new HybridCacheEntryOptions { Expiration = lifetime, LocalCacheExpiration = lifetime }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _cache.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }

        return token;
    }

    /// <summary>The token's expiry less the margin, capped by the caller's own token: an exchanged token must not outlive it.</summary>
    private TimeSpan Lifetime(UpstreamToken token, ClaimsPrincipal user)
    {
        var now = _time.GetUtcNow();
        var lifetime = token.ExpiresAt - _options.SafetyMargin - now;
        if (user.FindFirst("exp")?.Value is { } exp && long.TryParse(exp, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            var callerLeft = DateTimeOffset.FromUnixTimeSeconds(seconds) - now;
            lifetime = callerLeft < lifetime ? callerLeft : lifetime;
        }

        return lifetime;
    }

    /// <summary>
    /// A hash of who the token is for and what it may do (never the caller's raw token): strategy, server, issuer,
    /// subject, the caller's client, the gateway's client, audience and sorted scopes.
    /// </summary>
    internal static string KeyOf(UpstreamTokenRequest request)
    {
        var options = request.Options;
        var actsForCaller = UpstreamAuthStrategies.ActsForCaller(options.Strategy);
        var subject = actsForCaller ? request.User.FindFirst("sub") ?? request.User.FindFirst(ClaimTypes.NameIdentifier) : null;
        var callerClient = actsForCaller ? (request.User.FindFirst("azp") ?? request.User.FindFirst("client_id") ?? request.User.FindFirst("appid"))?.Value : null;
        var scopes = options.Scopes.Count switch
        {
            0 => string.Empty,
            1 => options.Scopes[0],
            _ => string.Join(' ', options.Scopes.Order(StringComparer.Ordinal)),
        };

        var material = string.Join('\n', options.Strategy, request.Server, subject?.Issuer, subject?.Value, callerClient, options.ClientId, options.Audience, scopes);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(material.Length));
        try
        {
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes.AsSpan(0, Encoding.UTF8.GetBytes(material, bytes)), hash);
            return KeyPrefix + Convert.ToHexStringLower(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
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
            metrics.RecordTokenAcquisition(request.Options.Strategy, Stopwatch.GetElapsedTime(started).TotalSeconds, token.Succeeded);
            return token;
        }
    }
}
