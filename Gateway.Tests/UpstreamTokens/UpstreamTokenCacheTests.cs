using System.Globalization;
using System.Security.Claims;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Telemetry;
using Gateway.Transforms.UpstreamTokens;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Internal;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.UpstreamTokens;

/// <summary>
/// The token cache on a fake clock, in front of an issuer of the test's own: how long tokens and failures are kept,
/// the cap at the caller's own token, and one IdP call per key however many callers wait for it.
/// </summary>
/// <remarks>
/// HybridCache reads the <see cref="TimeProvider"/> it finds in the container, but only for its own bookkeeping (tag
/// invalidation); its memory level is an <see cref="IMemoryCache"/>, whose entries expire by
/// <see cref="MemoryCacheOptions.Clock"/> (an <see cref="ISystemClock"/>, wall time when unset). So the fake clock is
/// given to both: as the TimeProvider, and through an ISystemClock over it as the memory cache's clock.
/// </remarks>
public sealed class UpstreamTokenCacheTests : IAsyncDisposable
{
    private const string Issuer = "https://sso.example.com/realms/mcp";
    private static readonly TimeSpan SafetyMargin = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FailureLifetime = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    // Whole seconds: a caller's exp is in whole seconds.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));
    private readonly CountingIssuer _issuer;
    private readonly ServiceProvider _services;
    private readonly UpstreamTokenCache _cache;

    public UpstreamTokenCacheTests()
    {
        _issuer = new CountingIssuer(_time);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.Configure<MemoryCacheOptions>(o => o.Clock = new FakeSystemClock(_time));
        services.AddHybridCache();
        services.AddMetrics();
        services.AddSingleton<McpMetrics>();
        _services = services.BuildServiceProvider(validateScopes: true);
        _cache = new UpstreamTokenCache(
            _services.GetRequiredService<HybridCache>(), [_issuer], _time,
            Options.Create(new TokenCacheOptions { SafetyMargin = SafetyMargin, FailureLifetime = FailureLifetime }),
            _services.GetRequiredService<McpMetrics>());
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    [Fact]
    public async Task GetAsync_AfterATokenWasIssued_IsAHit_WithoutAskingTheIdentityProvider()
    {
        var first = await _cache.GetAsync(Request(Alice()), Ct);
        var second = await _cache.GetAsync(Request(Alice()), Ct);

        Assert.Equal("token-1", first.AccessToken);
        Assert.Same(first, second);
        Assert.Equal(1, _issuer.Calls);
    }

    [Fact]
    public async Task GetAsync_ForCallersWithoutASubject_NeverSharesAToken()
    {
        // Two different callers whose tokens name no subject (and so no one the cache could tell apart).
        var first = new ClaimsPrincipal(new ClaimsIdentity([new Claim("azp", "app-one", null, Issuer)], "Bearer"));
        var second = new ClaimsPrincipal(new ClaimsIdentity([new Claim("azp", "app-two", null, Issuer)], "Bearer"));

        var one = await _cache.GetAsync(Request(first), Ct);
        var two = await _cache.GetAsync(Request(second), Ct);

        Assert.Equal("token-1", one.AccessToken);
        Assert.Equal("token-2", two.AccessToken);
        Assert.Equal(2, _issuer.Calls);
    }

    [Fact]
    public async Task GetAsync_UntilTheTokensExpiryLessTheSafetyMargin_IsAHit_AndAfterIt_IssuesAgain()
    {
        var tokenLifetime = TimeSpan.FromMinutes(5);
        _issuer.Lifetime = tokenLifetime;
        var issued = await _cache.GetAsync(Request(Alice()), Ct);
        Assert.Equal(_time.GetUtcNow() + tokenLifetime, issued.ExpiresAt);

        _time.Advance(tokenLifetime - SafetyMargin - OneSecond);
        Assert.Equal("token-1", (await _cache.GetAsync(Request(Alice()), Ct)).AccessToken);
        Assert.Equal(1, _issuer.Calls);

        // Still 29 s before the token expires: an upstream would take it, but the cache must not hand it out.
        _time.Advance(OneSecond + OneSecond);
        Assert.Equal("token-2", (await _cache.GetAsync(Request(Alice()), Ct)).AccessToken);
        Assert.Equal(2, _issuer.Calls);
    }

    [Fact]
    public async Task GetAsync_AfterAFailure_AnswersItForTheFailureLifetime_ThenAsksAgain()
    {
        _issuer.Next = UpstreamToken.Failed(UpstreamTokenFailure.Unreachable, "The IdP could not be reached.");
        var failed = await _cache.GetAsync(Request(Alice()), Ct);
        Assert.Equal(UpstreamTokenFailure.Unreachable, failed.Failure);

        _time.Advance(FailureLifetime - OneSecond);
        Assert.Same(failed, await _cache.GetAsync(Request(Alice()), Ct));
        Assert.Equal(1, _issuer.Calls);

        _time.Advance(OneSecond + OneSecond);
        var retried = await _cache.GetAsync(Request(Alice()), Ct);
        Assert.True(retried.Succeeded);
        Assert.Equal(2, _issuer.Calls);
    }

    [Fact]
    public async Task GetAsync_CallersTokenExpiringBeforeTheUpstreamToken_EndsTheEntryWithIt()
    {
        // The upstream token would be good for an hour; the caller's own token for two minutes.
        _issuer.Lifetime = TimeSpan.FromHours(1);
        var callerLifetime = TimeSpan.FromMinutes(2);
        await _cache.GetAsync(Request(Alice(expiresIn: callerLifetime)), Ct);

        _time.Advance(callerLifetime - OneSecond);
        Assert.Equal("token-1", (await _cache.GetAsync(Request(Alice(expiresIn: callerLifetime)), Ct)).AccessToken);
        Assert.Equal(1, _issuer.Calls);

        // Once the first token has expired, even a fresh token of the same caller (same key) finds no entry: it must
        // not be served an exchange made with a token that is no longer valid.
        _time.Advance(OneSecond + OneSecond);
        var refreshed = Alice(expiresIn: TimeSpan.FromHours(1));
        Assert.Equal("token-2", (await _cache.GetAsync(Request(refreshed), Ct)).AccessToken);
        Assert.Equal(2, _issuer.Calls);
    }

    [Fact]
    public async Task GetAsync_ManyCallersOfOneKeyWhileTheIdentityProviderIsHeld_MakeOneCall_AndAllGetItsToken()
    {
        const int callers = 16;
        var release = _issuer.Hold();

        // Not cancellable: on a miss, HybridCache then answers without leaving the calling thread, so each caller has
        // found the miss and joined (or started) the flight before the next one starts and before the IdP answers.
        var waiting = Enumerable.Range(0, callers).Select(_ => _cache.GetAsync(Request(Alice()), CancellationToken.None).AsTask()).ToArray();
        await _issuer.Entered.WaitAsync(Ct);
        Assert.Equal(1, _issuer.Calls);
        Assert.All(waiting, w => Assert.False(w.IsCompleted));

        release.SetResult();
        var tokens = await Task.WhenAll(waiting);

        Assert.Equal(1, _issuer.Calls);
        Assert.All(tokens, t => Assert.Equal("token-1", t.AccessToken));
        Assert.Equal("token-1", (await _cache.GetAsync(Request(Alice()), Ct)).AccessToken);
        Assert.Equal(1, _issuer.Calls);
    }

    [Fact]
    public async Task GetAsync_CallerWhoseTokenHasExpired_IsNotServedTheCachedToken_AndItsOwnIsNotCached()
    {
        var cached = await _cache.GetAsync(Request(Alice()), Ct);

        // Its exp is past, though still inside the clock skew authentication allows.
        var own = await _cache.GetAsync(Request(Alice(expiresIn: TimeSpan.FromSeconds(-10))), Ct);

        Assert.Equal("token-2", own.AccessToken);
        Assert.Equal(2, _issuer.Calls);
        Assert.Same(cached, await _cache.GetAsync(Request(Alice()), Ct));
        Assert.Equal(2, _issuer.Calls);
    }

    [Fact]
    public async Task GetAsync_CallerWhoseTokenHasExpired_OnAMiss_GetsATokenThatIsNotCached()
    {
        var own = await _cache.GetAsync(Request(Alice(expiresIn: TimeSpan.FromSeconds(-10))), Ct);
        Assert.Equal("token-1", own.AccessToken);

        var next = await _cache.GetAsync(Request(Alice()), Ct);

        Assert.Equal("token-2", next.AccessToken);
        Assert.Equal(2, _issuer.Calls);
    }

    /// <summary>Alice, authenticated with a token that expires <paramref name="expiresIn"/> from now (an hour by default).</summary>
    private ClaimsPrincipal Alice(TimeSpan? expiresIn = null)
    {
        var exp = (_time.GetUtcNow() + (expiresIn ?? TimeSpan.FromHours(1))).ToUnixTimeSeconds();
        return new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim("sub", "alice", null, Issuer),
                new Claim("azp", "mcp-client", null, Issuer),
                new Claim("exp", exp.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64, Issuer),
            ],
            "Bearer"));
    }

    private static UpstreamTokenRequest Request(ClaimsPrincipal user) => new(
        "demo",
        new UpstreamAuthOptions { Strategy = UpstreamAuthStrategy.TokenExchange, ClientId = "mcp-gateway", Audience = "upstream-a", Scopes = ["tools:call"] },
        user,
        McpCaller.Of(user),
        "the-callers-token");

    /// <summary>The IdP side, as the cache sees it: counts its calls, can be held, issues token-1, token-2, … on the fake clock.</summary>
    private sealed class CountingIssuer(TimeProvider time) : IUpstreamTokenIssuer
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource? _held;
        private int _calls;

        public UpstreamAuthStrategy Strategy => UpstreamAuthStrategy.TokenExchange;

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>Completes when the first call arrives.</summary>
        public Task Entered => _entered.Task;

        /// <summary>How long the tokens it issues are valid.</summary>
        public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>The answer to the next call instead of a token.</summary>
        public UpstreamToken? Next { get; set; }

        /// <summary>Calls wait until the returned source is completed.</summary>
        public TaskCompletionSource Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<UpstreamToken> IssueAsync(UpstreamTokenRequest request, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            _entered.TrySetResult();
            if (_held is { } held)
            {
                await held.Task.WaitAsync(cancellationToken);
            }

            if (Next is { } next)
            {
                Next = null;
                return next;
            }

            return UpstreamToken.Issued($"token-{call}", time.GetUtcNow() + Lifetime);
        }
    }

    /// <summary>The fake clock as the memory cache's clock.</summary>
    private sealed class FakeSystemClock(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
