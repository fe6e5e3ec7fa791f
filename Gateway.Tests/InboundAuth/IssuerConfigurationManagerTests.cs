using Gateway.Transforms.InboundAuth;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Gateway.Tests.InboundAuth;

/// <summary>
/// The issuer's keys on a fake clock: fetched again at most once a minute whatever asks, one fetch shared by everyone
/// who asked meanwhile, waited for only by those who asked, and the keys held kept when the IdP fails.
/// </summary>
/// <remarks>A "request" here calls what JsonWebTokenHandler calls when a token's key is unknown: RequestRefresh, then GetConfigurationAsync.</remarks>
public sealed class IssuerConfigurationManagerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly ScriptedRetriever _idp = new();
    private readonly IssuerConfigurationManager _keys;

    public IssuerConfigurationManagerTests() =>
        _keys = new IssuerConfigurationManager("https://idp.example.com/.well-known/openid-configuration", _idp, new HttpDocumentRetriever(), _time, NullLogger<IssuerConfigurationManager>.Instance);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FirstRequest_WaitsForTheFetch_AndLaterOnesUseTheKeysHeld()
    {
        var first = _keys.GetConfigurationAsync(Ct);
        Assert.False(first.IsCompleted);
        var fetched = _idp.Answer();

        Assert.Same(fetched, await first);
        Assert.Same(fetched, await _keys.GetConfigurationAsync(Ct));
        Assert.Equal(1, _idp.Fetches);
    }

    [Fact]
    public async Task RefreshRequests_WithinAMinuteOfTheLastFetch_FetchNothing_AndTheFirstAfterIt_GetsTheNewKeys()
    {
        var held = await HoldKeysAsync();

        for (var i = 0; i < 1000; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(59));
            Assert.Same(held, await UnknownKeyRequestAsync());
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        var request = UnknownKeyRequestAsync();
        var rotated = _idp.Answer();

        Assert.Same(rotated, await request);
        Assert.Equal(2, _idp.Fetches);
    }

    [Fact]
    public async Task ConcurrentRefreshRequests_ShareOneFetch_AndAllGetTheNewKeys()
    {
        await HoldKeysAsync();
        _time.Advance(TimeSpan.FromMinutes(1));

        var requests = Enumerable.Range(0, 10).Select(_ => UnknownKeyRequestAsync()).ToArray();
        Assert.All(requests, r => Assert.False(r.IsCompleted));
        var rotated = _idp.Answer();

        Assert.All(await Task.WhenAll(requests), c => Assert.Same(rotated, c));
        Assert.Equal(2, _idp.Fetches);
    }

    [Fact]
    public async Task RequestThatDidNotAskForARefresh_IsNotHeldUpByOne()
    {
        var held = await HoldKeysAsync();
        _time.Advance(TimeSpan.FromMinutes(1));
        var asking = UnknownKeyRequestAsync();

        var other = _keys.GetConfigurationAsync(Ct);

        Assert.True(other.IsCompletedSuccessfully);
        Assert.Same(held, await other);
        Assert.False(asking.IsCompleted);
        Assert.Same(_idp.Answer(), await asking);
    }

    [Fact]
    public async Task FailedFetch_KeepsTheKeysHeld_AndTheNextAttemptIsAMinuteLater()
    {
        var held = await HoldKeysAsync();
        _time.Advance(TimeSpan.FromMinutes(1));

        var request = UnknownKeyRequestAsync();
        _idp.Fail();
        Assert.Same(held, await request);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Same(held, await UnknownKeyRequestAsync());
        Assert.Equal(2, _idp.Fetches);

        _time.Advance(TimeSpan.FromSeconds(1));
        request = UnknownKeyRequestAsync();
        Assert.Same(_idp.Answer(), await request);
        Assert.Equal(3, _idp.Fetches);
    }

    [Fact]
    public async Task WithoutKeys_AFailedFetch_Throws_AndIsNotTriedAgainWithinTheMinute()
    {
        var first = _keys.GetConfigurationAsync(Ct);
        _idp.Fail();
        await Assert.ThrowsAsync<InvalidOperationException>(() => first);

        _time.Advance(TimeSpan.FromSeconds(59));
        await Assert.ThrowsAsync<InvalidOperationException>(() => UnknownKeyRequestAsync());
        Assert.Equal(1, _idp.Fetches);

        _time.Advance(TimeSpan.FromSeconds(1));
        var request = _keys.GetConfigurationAsync(Ct);
        Assert.Same(_idp.Answer(), await request);
        Assert.Equal(2, _idp.Fetches);
    }

    [Fact]
    public async Task PeriodicRefresh_WhenDue_RunsWithoutHoldingUpRequests()
    {
        var held = await HoldKeysAsync();
        _time.Advance(_keys.AutomaticRefreshInterval);

        Assert.Same(held, await _keys.GetConfigurationAsync(Ct));
        Assert.Equal(2, _idp.Fetches);
        var refreshed = _idp.Answer();

        Assert.Same(refreshed, await _keys.GetConfigurationAsync(Ct));
        Assert.Equal(2, _idp.Fetches);
    }

    private async Task<OpenIdConnectConfiguration> HoldKeysAsync()
    {
        var first = _keys.GetConfigurationAsync(Ct);
        var held = _idp.Answer();
        await first;
        return held;
    }

    private async Task<OpenIdConnectConfiguration> UnknownKeyRequestAsync()
    {
        _keys.RequestRefresh();
        return await _keys.GetConfigurationAsync(Ct);
    }

    /// <summary>An IdP whose every fetch waits until the test answers it, or fails it.</summary>
    private sealed class ScriptedRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        private TaskCompletionSource<OpenIdConnectConfiguration>? _pending;

        public int Fetches { get; private set; }

        public Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            Assert.Null(_pending);
            Fetches++;
            // Continuations run inline: when Answer returns, the manager holds the new keys.
            _pending = new TaskCompletionSource<OpenIdConnectConfiguration>();
            return _pending.Task;
        }

        /// <summary>Answers the fetch in flight with new metadata, and returns it.</summary>
        public OpenIdConnectConfiguration Answer()
        {
            var configuration = new OpenIdConnectConfiguration { Issuer = "https://idp.example.com" };
            Take().SetResult(configuration);
            return configuration;
        }

        public void Fail() => Take().SetException(new HttpRequestException("The IdP is down."));

        private TaskCompletionSource<OpenIdConnectConfiguration> Take()
        {
            var pending = _pending ?? throw new InvalidOperationException("No fetch is in flight.");
            _pending = null;
            return pending;
        }
    }
}
