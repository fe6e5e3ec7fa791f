using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Tests.Infrastructure.Identity;

/// <summary>One RFC 8693 exchange the IdP answered: whose token, for which audience, for which client.</summary>
public sealed record RecordedExchange(string Subject, string? Audience, string ClientId);

/// <summary>
/// A real OpenID Connect server (OpenIddict on Kestrel, loopback) with Keycloak's URL shapes:
/// <c>/realms/mcp/protocol/openid-connect/{auth,token,certs}</c> and <c>/realms/mcp/.well-known/openid-configuration</c>.
/// It signs users in without a login page, issues tokens by the password, authorization code (PKCE), client
/// credentials and RFC 8693 token exchange grants, and counts what it was asked, so tests can assert on it.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    /// <summary>The realm in every URL, as in Keycloak.</summary>
    public const string Realm = "mcp";

    /// <summary>The gateway's confidential client, used for token exchange and client credentials.</summary>
    public const string GatewayClientId = "mcp-gateway";

    public const string GatewayClientSecret = "gateway-secret";

    /// <summary>A public client (an MCP client app) that uses the authorization code flow with PKCE.</summary>
    public const string PublicClientId = "mcp-client";

    /// <summary>Another public client of the same users (another MCP client app).</summary>
    public const string OtherPublicClientId = "other-mcp-client";

    // OpenIddict allows "audience" only in token exchange, and "resource" only as a URL; Keycloak sets the audience
    // of user tokens by client configuration. The test asks for it in a parameter of its own.
    private const string TestAudienceParameter = "test_audience";

    /// <summary>The audiences token exchange may target, as the upstream clients registered in a realm.</summary>
    public static readonly string[] UpstreamAudiences = ["upstream-a", "upstream-b"];

    private readonly WebApplication _app;
    private int _jwksRequests;
    private int _tokenRequests;

    private TestIdentityProvider(WebApplication app, Uri issuer, RsaSecurityKey signingKey, CapturedLogs logs)
    {
        Logs = logs;
        _app = app;
        Issuer = issuer;
        SigningKey = signingKey;
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>What the IdP logged (warnings and worse): why it refused a request.</summary>
    public CapturedLogs Logs { get; }

    /// <summary>The issuer, exactly as in tokens' <c>iss</c> (no trailing slash, as Keycloak writes it).</summary>
    public Uri Issuer { get; }

    public Uri TokenEndpoint => new(Issuer + "/protocol/openid-connect/token");

    /// <summary>The key that signs new tokens, published in the JWKS; tests use it to forge tokens the IdP never issued.</summary>
    public RsaSecurityKey SigningKey { get; private set; }

    /// <summary>The user the authorization endpoint signs in, as if they had typed their password.</summary>
    public string AuthorizingUser { get; set; } = "alice";

    /// <summary>When true, token exchanges are answered <c>invalid_grant</c>, as an IdP whose policy forbids them.</summary>
    public bool RefuseExchanges { get; set; }

    /// <summary>When true, every request is answered 503 (after being counted), as an IdP that is down.</summary>
    public bool Unavailable { get; set; }

    /// <summary>How long access tokens live.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    public int JwksRequests => Volatile.Read(ref _jwksRequests);

    /// <summary>Requests to the token endpoint, of any grant.</summary>
    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    public ConcurrentQueue<RecordedExchange> Exchanges { get; } = new();

    private HttpClient Http { get; }

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var port = UpstreamPort.Free();
        var issuer = new Uri($"http://127.0.0.1:{port}/realms/{Realm}");
        var signingKey = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-signing-key" };
        string Endpoint(string path) => issuer + path;

        var logs = new CapturedLogs();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddProvider(logs);
        builder.Services.AddAuthentication();
        builder.Services.AddOpenIddict().AddServer(options =>
        {
            options.SetIssuer(issuer)
                .SetAuthorizationEndpointUris(Endpoint("/protocol/openid-connect/auth"))
                .SetTokenEndpointUris(Endpoint("/protocol/openid-connect/token"))
                .SetJsonWebKeySetEndpointUris(Endpoint("/protocol/openid-connect/certs"))
                .SetConfigurationEndpointUris(Endpoint("/.well-known/openid-configuration"));
            options.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange()
                .AllowPasswordFlow()
                .AllowClientCredentialsFlow()
                .AllowTokenExchangeFlow()
                .AllowRefreshTokenFlow();
            options.RegisterScopes("tools:read", "tools:call", "admin", Scopes.OfflineAccess);

            // As a Keycloak realm knows its upstream clients: tokens for any other audience are refused. And as in
            // Keycloak (and Auth0, Okta), client credentials may name their "audience", which OpenIddict keeps to
            // token exchange by default.
            options.RegisterAudiences(UpstreamAudiences);
            options.RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateAudienceParameter.Descriptor);

            // Resource indicators name the gateway's servers, whose URLs have ports chosen at run time.
            options.DisableResourceValidation();

            // No stores: clients are checked by these handlers, users are whoever asks.
            options.EnableDegradedMode();
            options.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId is not (PublicClientId or OtherPublicClientId))
                {
                    context.Reject(Errors.InvalidClient, "Unknown client.");
                }

                return default;
            }));
            options.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId == GatewayClientId ? context.Request.ClientSecret != GatewayClientSecret : context.ClientId is not (PublicClientId or OtherPublicClientId))
                {
                    context.Reject(Errors.InvalidClient, "The client is unknown or its secret is wrong.");
                }

                return default;
            }));
            options.DisableAccessTokenEncryption();
            options.AddSigningKey(signingKey);
            options.AddEphemeralEncryptionKey();
            options.UseAspNetCore()
                .EnableAuthorizationEndpointPassthrough()
                .EnableTokenEndpointPassthrough()
                .DisableTransportSecurityRequirement();
        });

        var app = builder.Build();
        TestIdentityProvider? provider = null;
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.Value!.EndsWith("/certs", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref provider!._jwksRequests);
            }

            if (provider!.Unavailable)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            await next(context);
        });

        // OpenIddict answers its endpoints (the JWKS's included) in the authentication middleware, which would otherwise
        // run first: requests are counted, and refused while unavailable, before it.
        app.UseAuthentication();
        app.MapMethods($"/realms/{Realm}/protocol/openid-connect/auth", [HttpMethods.Get, HttpMethods.Post], (HttpContext context) => provider!.Authorize(context));
        app.MapPost($"/realms/{Realm}/protocol/openid-connect/token", (Delegate)((HttpContext context) => provider!.TokenAsync(context)));
        await app.StartAsync();
        provider = new TestIdentityProvider(app, issuer, signingKey, logs);
        return provider;
    }

    /// <summary>
    /// Rotates the signing key, as an IdP does: a new key (with a kid of its own) is published in the JWKS beside the
    /// old one, and signs every token from now on.
    /// </summary>
    public void RotateSigningKey()
    {
        var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-signing-key-" + Guid.NewGuid().ToString("N") };

        // OpenIddict signs with the first signing credentials and publishes all of them, reading its options on every request.
        _app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials
            .Insert(0, new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
        SigningKey = key;
    }

    /// <summary>The lines of <c>gateway:</c> that make the gateway trust this IdP.</summary>
    public string[] GatewayAuth(params string[] extraLines) =>
        ["auth:", $"  authority: '{Issuer}'", "  requireHttpsMetadata: false", .. extraLines.Select(l => "  " + l)];

    /// <summary>The lines of a server that exchange the caller's token for one with <paramref name="audience"/>, or get the gateway's own.</summary>
    public string[] UpstreamAuth(string strategy, string audience) =>
    [
        "upstreamAuth:",
        $"  strategy: {strategy}",
        $"  tokenEndpoint: '{TokenEndpoint}'",
        $"  clientId: {GatewayClientId}",
        $"  clientSecret: {GatewayClientSecret}",
        $"  audience: {audience}",
    ];

    /// <summary>A user's access token for <paramref name="audience"/>, obtained by the password grant as a client app would.</summary>
    public Task<string> IssueUserTokenAsync(string user, string audience, params string[] scopes) => IssueUserTokenForClientAsync(PublicClientId, user, audience, scopes);

    /// <summary>A user's access token for <paramref name="audience"/>, as client app <paramref name="clientId"/> obtains it.</summary>
    public async Task<string> IssueUserTokenForClientAsync(string clientId, string user, string audience, params string[] scopes)
    {
        using var response = await Http.PostAsync(TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [Parameters.GrantType] = GrantTypes.Password,
            [Parameters.ClientId] = clientId,
            [Parameters.Username] = user,
            [Parameters.Password] = "password",
            [TestAudienceParameter] = audience,
            [Parameters.Scope] = string.Join(' ', scopes),
        }), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("access_token").GetString()!;
    }

    /// <summary>
    /// A token the IdP never issued: by default exactly like one it would (its issuer, its key, RS256, ten minutes),
    /// then changed by <paramref name="change"/> to make it bad in one way.
    /// </summary>
    public string Forge(string subject, string? audience, Action<SecurityTokenDescriptor>? change = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer.ToString(),
            Audience = audience,
            Claims = new Dictionary<string, object> { [Claims.Subject] = subject, [Claims.Scope] = "tools:read tools:call" },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.RsaSha256),
        };
        change?.Invoke(descriptor);
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>Signs in <see cref="AuthorizingUser"/> at once: the test IdP has no login page.</summary>
    private IResult Authorize(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()!;
        return SignIn(AuthorizingUser, request.GetScopes(), UserTokenAudiences(request.GetResources()));
    }

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        Interlocked.Increment(ref _tokenRequests);
        var request = context.GetOpenIddictServerRequest()!;
        var confidential = request.ClientId == GatewayClientId;

        if (request.IsPasswordGrantType())
        {
            return SignIn(request.Username!, request.GetScopes(), UserTokenAudiences([(string)request[TestAudienceParameter]!]));
        }

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            var granted = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return SignIn(granted.Principal!.GetClaim(Claims.Subject)!, granted.Principal!.GetScopes(), granted.Principal!.GetResources());
        }

        if (request.IsClientCredentialsGrantType() && confidential)
        {
            return SignIn(GatewayClientId, request.GetScopes(), request.Audiences ?? []);
        }

        if (request.IsTokenExchangeGrantType() && confidential)
        {
            var subject = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal!.GetClaim(Claims.Subject)!;
            var audience = request.Audiences?.FirstOrDefault();
            if (RefuseExchanges)
            {
                return Forbid(Errors.InvalidGrant, "Token exchange is not allowed for this client.");
            }

            Exchanges.Enqueue(new RecordedExchange(subject, audience, request.ClientId!));
            return SignIn(subject, request.GetScopes(), audience is null ? [] : [audience]);
        }

        return Forbid(Errors.UnauthorizedClient, "This client may not use this grant.");
    }

    /// <summary>
    /// What a user's token is for: the resource asked for, and the gateway's client, so that the gateway may exchange
    /// it (Keycloak's standard token exchange and OpenIddict both require the exchanging client among the audiences;
    /// in Keycloak an audience mapper adds it).
    /// </summary>
    private static IEnumerable<string> UserTokenAudiences(IEnumerable<string> requested) => [.. requested, GatewayClientId];

    private IResult SignIn(string subject, IEnumerable<string> scopes, IEnumerable<string> audiences)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, subject).SetClaim(Claims.Name, subject);
        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes).SetResources(audiences).SetAccessTokenLifetime(AccessTokenLifetime);
        principal.SetDestinations(_ => [Destinations.AccessToken]);
        return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static IResult Forbid(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(TimeSpan.FromSeconds(2).ToCancellationToken());
        await _app.DisposeAsync();
    }
}
