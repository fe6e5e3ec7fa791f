using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Transforms.InboundAuth;

/// <summary>
/// The issuer's metadata and signing keys (its JWKS), fetched again at most once per
/// <see cref="BaseConfigurationManager.RefreshInterval"/> (a minute) however many tokens name a key it does not hold;
/// the request that asked for the fetch waits for it, and is validated with the new keys.
/// </summary>
/// <remarks>
/// <para>
/// JsonWebTokenHandler does the retry: when a token's key is not found (or its signature or issuer does not match), it
/// calls <see cref="RequestRefresh"/>, asks for the configuration again and, if it got another one, validates once more.
/// Microsoft.IdentityModel's own <see cref="ConfigurationManager{T}"/> only starts a background fetch there and hands
/// back the old keys, so the request that carried a newly rotated key fails, and so does every other for the 5 minutes
/// its refresh interval lasts.
/// </para>
/// <para>
/// Only the request that asked waits: the fetch it joined is remembered in an <see cref="AsyncLocal{T}"/>, which the
/// second call of the same validation reads. Requests whose tokens the keys held validate are never held up by a slow
/// IdP. Attempts, not successes, are spaced by the interval, so an IdP that is down is not asked on every request; a
/// failed fetch keeps the keys held.
/// </para>
/// </remarks>
internal sealed partial class IssuerConfigurationManager : BaseConfigurationManager, IConfigurationManager<OpenIdConnectConfiguration>
{
    private readonly IConfigurationRetriever<OpenIdConnectConfiguration> _retriever;
    private readonly IDocumentRetriever _documents;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly AsyncLocal<Task?> _requestedFetch = new();
    private volatile OpenIdConnectConfiguration? _current;
    private long _currentFetchedAt;
    private long? _lastAttemptAt;
    private Task _fetch = Task.CompletedTask;

    public IssuerConfigurationManager(string metadataAddress, IConfigurationRetriever<OpenIdConnectConfiguration> retriever, IDocumentRetriever documents, TimeProvider time, ILogger<IssuerConfigurationManager> logger)
    {
        MetadataAddress = metadataAddress;
        _retriever = retriever;
        _documents = documents;
        _time = time;
        _logger = logger;

        // What the README promises: a key the IdP starts using is accepted within a minute, whatever else is sent.
        RefreshInterval = TimeSpan.FromMinutes(1);
    }

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        var requested = _requestedFetch.Value;
        if (requested is null && _current is { } current)
        {
            if (_time.GetElapsedTime(_currentFetchedAt) >= AutomaticRefreshInterval)
            {
                // The keys held are still good: no request waits for the periodic refresh.
                _ = JoinOrStartFetch();
            }

            return current;
        }

        if ((requested ?? JoinOrStartFetch()) is { } fetch)
        {
            await fetch.WaitAsync(cancel).ConfigureAwait(false);
        }

        // JsonWebTokenHandler takes this for "no keys": the token is refused (401), the request goes on.
        return _current ?? throw new InvalidOperationException(
            $"The issuer's metadata could not be fetched from '{MetadataAddress}'; it is tried again at most once per {RefreshInterval}.");
    }

    public override async Task<BaseConfiguration> GetBaseConfigurationAsync(CancellationToken cancel) =>
        await GetConfigurationAsync(cancel).ConfigureAwait(false);

    /// <summary>Joins the fetch in flight, or starts one if the interval since the last attempt has passed; the same validation's next <see cref="GetConfigurationAsync"/> waits for it.</summary>
    public override void RequestRefresh() => _requestedFetch.Value = JoinOrStartFetch();

    /// <summary>The fetch in flight; else a new one if the interval since the last attempt has passed; else null.</summary>
    private Task? JoinOrStartFetch()
    {
        lock (_gate)
        {
            if (!_fetch.IsCompleted)
            {
                return _fetch;
            }

            if (_lastAttemptAt is { } last && _time.GetElapsedTime(last) < RefreshInterval)
            {
                return null;
            }

            _lastAttemptAt = _time.GetTimestamp();

            // The fetch is shared: what it does after its first await must not run in the context (trace, log scopes,
            // async-locals) of the request that happened to start it.
            var flow = ExecutionContext.IsFlowSuppressed() ? (AsyncFlowControl?)null : ExecutionContext.SuppressFlow();
            try
            {
                _fetch = FetchAsync();
            }
            finally
            {
                flow?.Undo();
            }

            return _fetch;
        }
    }

    private async Task FetchAsync()
    {
        try
        {
            // Not a caller's token: the fetch is shared. The back-channel's timeout bounds it.
            var configuration = await _retriever.GetConfigurationAsync(MetadataAddress, _documents, CancellationToken.None).ConfigureAwait(false);
            _currentFetchedAt = _time.GetTimestamp();
            _current = configuration;
            LogFetched(_logger, MetadataAddress, configuration.SigningKeys.Count);
        }
        catch (Exception ex)
        {
            // Whatever failed (network, HTTP status, a document that does not parse), the keys held stay in use.
            LogFetchFailed(_logger, MetadataAddress, _current?.SigningKeys.Count ?? 0, RefreshInterval, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched the issuer's metadata from {MetadataAddress}: {KeyCount} signing keys")]
    private static partial void LogFetched(ILogger logger, string metadataAddress, int keyCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not fetch the issuer's metadata from {MetadataAddress}; tokens are validated with the {KeyCount} signing keys held, and the next attempt is at least {RefreshInterval} after this one")]
    private static partial void LogFetchFailed(ILogger logger, string metadataAddress, int keyCount, TimeSpan refreshInterval, Exception exception);
}
