using System.Net;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>RFC 8693 token exchange: the caller's token for one meant for the upstream, at the server's token endpoint.</summary>
internal sealed class TokenExchangeIssuer(IHttpClientFactory httpClients, TimeProvider time, ILogger<TokenExchangeIssuer> logger) : IUpstreamTokenIssuer
{
    public UpstreamAuthStrategy Strategy => UpstreamAuthStrategy.TokenExchange;

    public async Task<UpstreamToken> IssueAsync(UpstreamTokenRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = request.Options;
        using var exchange = new TokenExchangeTokenRequest
        {
            Address = options.TokenEndpoint,
            ClientId = options.ClientId!,
            ClientSecret = options.ClientSecret,
            SubjectToken = request.SubjectToken!,
            SubjectTokenType = UpstreamAuthOptions.AccessTokenType,
            Audience = options.Audience,
            Scope = IdentityProviderHttp.ScopeOf(options),
            RequestedTokenType = options.RequestedTokenType,
        };

        var client = httpClients.CreateClient(IdentityProviderHttp.ClientName);
        var response = await client.RequestTokenExchangeTokenAsync(exchange, cancellationToken).ConfigureAwait(false);
        return IdentityProviderHttp.ToUpstreamToken(response, request.Server, time, logger);
    }
}

/// <summary>The client credentials grant: a token for the gateway's own identity.</summary>
internal sealed class ClientCredentialsIssuer(IHttpClientFactory httpClients, TimeProvider time, ILogger<ClientCredentialsIssuer> logger) : IUpstreamTokenIssuer
{
    public UpstreamAuthStrategy Strategy => UpstreamAuthStrategy.ClientCredentials;

    public async Task<UpstreamToken> IssueAsync(UpstreamTokenRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = request.Options;
        using var credentials = new ClientCredentialsTokenRequest
        {
            Address = options.TokenEndpoint,
            ClientId = options.ClientId!,
            ClientSecret = options.ClientSecret,
            Scope = IdentityProviderHttp.ScopeOf(options),
        };

        if (options.Audience is { } audience)
        {
            // Keycloak, Auth0 and Okta read the target from "audience"; the grant itself has no such parameter.
            credentials.Parameters.Add("audience", audience);
        }

        var client = httpClients.CreateClient(IdentityProviderHttp.ClientName);
        var response = await client.RequestClientCredentialsTokenAsync(credentials, cancellationToken).ConfigureAwait(false);
        return IdentityProviderHttp.ToUpstreamToken(response, request.Server, time, logger);
    }
}

/// <summary>What the OAuth issuers share: their HTTP client and how an IdP's answer becomes an <see cref="UpstreamToken"/>.</summary>
internal static partial class IdentityProviderHttp
{
    /// <summary>The named <see cref="HttpClient"/> for token endpoints.</summary>
    public const string ClientName = "Gateway.IdentityProvider";

    // An IdP that does not say how long a token lives gets the shortest lifetime worth caching.
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(1);

    /// <summary>The <c>scope</c> parameter: the configured scopes, space-separated, or none.</summary>
    public static string? ScopeOf(UpstreamAuthOptions options) => options.Scopes.Count == 0 ? null : string.Join(' ', options.Scopes);

    public static UpstreamToken ToUpstreamToken(TokenResponse response, string server, TimeProvider time, ILogger logger)
    {
        if (!response.IsError && !string.IsNullOrEmpty(response.AccessToken))
        {
            var lifetime = response.ExpiresIn > 0 ? TimeSpan.FromSeconds(response.ExpiresIn) : DefaultLifetime;
            return UpstreamToken.Issued(response.AccessToken, time.GetUtcNow() + lifetime);
        }

        // Only protocol errors with a 4xx are a refusal; a transport failure or a 5xx may pass.
        var refused = response.ErrorType == ResponseErrorType.Protocol && response.HttpStatusCode is >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError;
        if (refused)
        {
            LogRefused(logger, server, response.Error, response.ErrorDescription);
            return UpstreamToken.Failed(UpstreamTokenFailure.Refused,
                $"The identity provider refused a token for upstream server '{server}' ({response.Error}).");
        }

        LogUnreachable(logger, server, response.ErrorType, (int)response.HttpStatusCode, response.Exception?.Message ?? response.Error);
        return UpstreamToken.Failed(UpstreamTokenFailure.Unreachable,
            $"The identity provider could not be reached for a token for upstream server '{server}'. Try again later.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The identity provider refused a token for server {Server}: {Error} {Description}")]
    private static partial void LogRefused(ILogger logger, string server, string? error, string? description);

    [LoggerMessage(Level = LogLevel.Error, Message = "No token for server {Server}: the identity provider failed ({ErrorType}, HTTP {Status}): {Detail}")]
    private static partial void LogUnreachable(ILogger logger, string server, ResponseErrorType errorType, int status, string? detail);
}
