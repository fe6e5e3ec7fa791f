using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.UpstreamTokens;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers inbound authentication (JWT bearer: any OIDC issuer, or Entra ID) and per-server authorization.</summary>
public static class GatewayAuthenticationExtensions
{
    /// <summary>Adds what <c>gateway.auth</c> configures; without it every server is anonymous.</summary>
    public static IServiceCollection AddGatewayAuthentication(this IServiceCollection services, AuthOptions? auth)
    {
        services.AddAuthorization(options => GatewayAdminPolicy.Add(options, auth));
        services.AddSingleton<IAuthorizationPolicyProvider, McpServerPolicyProvider>();
        services.AddSingleton<IAuthorizationHandler, McpServerAccessHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, McpChallengeWriter>();
        if (auth is null)
        {
            services.AddAuthentication();
            return services;
        }

        var builder = services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme);
        if (auth.Entra is { } entra)
        {
            builder.AddMicrosoftIdentityWebApi(
                    _ => { },
                    identity =>
                    {
                        identity.Instance = entra.Instance;
                        identity.TenantId = entra.TenantId;
                        identity.ClientId = entra.ClientId;
                        identity.ClientSecret = entra.ClientSecret;
                    },
                    JwtBearerDefaults.AuthenticationScheme)
                .EnableTokenAcquisitionToCallDownstreamApi(_ => { })
                .AddInMemoryTokenCaches();
            services.AddSingleton<IUpstreamTokenIssuer, OnBehalfOfIssuer>();
        }
        else
        {
            // Before JwtBearer's own post-configuration, which builds the metadata client from these two.
            builder.AddJwtBearer(options =>
            {
                options.Authority = auth.Authority;
                options.RequireHttpsMetadata = auth.RequireHttpsMetadata;
            });
        }

        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .PostConfigure<ILoggerFactory>((options, loggers) =>
            {
                Harden(options, auth);
                FetchRotatedKeysOnDemand(options, loggers);
            });
        return services;
    }

    /// <summary>The same rules whichever issuer: signed, asymmetric, exact issuer, bounded skew, and this server's audience.</summary>
    private static void Harden(JwtBearerOptions options, AuthOptions auth)
    {
        options.MapInboundClaims = false;
        options.SaveToken = false;
        var parameters = options.TokenValidationParameters;
        if (auth.Authority is { } authority)
        {
            parameters.ValidIssuer = authority;
        }

        parameters.ValidateIssuer = true;
        parameters.ValidateLifetime = true;
        parameters.RequireExpirationTime = true;
        parameters.RequireSignedTokens = true;
        parameters.ValidateIssuerSigningKey = true;
        parameters.ClockSkew = auth.ClockSkew;
        parameters.ValidAlgorithms = auth.Algorithms.Count > 0 ? auth.Algorithms : JwtAlgorithms.Asymmetric;
        parameters.NameClaimType = "sub";
        parameters.RoleClaimType = "roles";

        // Which audience is right depends on the server called; here only its presence is required, and the
        // server's own audience is checked once the request's route is known (below).
        parameters.ValidateAudience = true;
        parameters.AudienceValidator = static (audiences, _, _) => audiences.Any();

        options.Events ??= new JwtBearerEvents();
        var previous = options.Events.OnTokenValidated;
        options.Events.OnTokenValidated = async context =>
        {
            await previous(context).ConfigureAwait(false);
            if (context.Result is null && context.HttpContext.Features.Get<McpRequestContext>() is { } request && context.SecurityToken is JsonWebToken token
                && !AcceptedAudiences(auth, context.Request, request).Any(token.Audiences.Contains))
            {
                context.Fail(new WrongAudienceException($"The token is not for server '{request.Server}'."));
            }
        };
    }

    /// <summary>
    /// Replaces the configuration manager JwtBearer's post-configuration built (from the authority, Entra's included) by
    /// one under which a token signed with a newly rotated key is accepted by the request that carries it.
    /// </summary>
    private static void FetchRotatedKeysOnDemand(JwtBearerOptions options, ILoggerFactory loggers)
    {
        if (options.ConfigurationManager is ConfigurationManager<OpenIdConnectConfiguration> { MetadataAddress: var metadataAddress })
        {
            options.ConfigurationManager = new IssuerConfigurationManager(
                metadataAddress,
                new OpenIdConnectConfigurationRetriever(),
                new HttpDocumentRetriever(options.Backchannel) { RequireHttps = options.RequireHttpsMetadata },
                options.TimeProvider ?? TimeProvider.System,
                loggers.CreateLogger<IssuerConfigurationManager>())
            {
                AutomaticRefreshInterval = options.AutomaticRefreshInterval,
            };
        }
    }

    private static IEnumerable<string> AcceptedAudiences(AuthOptions auth, HttpRequest http, McpRequestContext request)
    {
        yield return McpResources.AudienceOf(http, request.Server, request.Options, request.Gateway, auth);
        if (request.Via?.Audience is { } virtualServerAudience)
        {
            // The virtual server accepted the token for itself and calls its member with it.
            yield return virtualServerAudience;
        }

        if (auth.Entra?.ClientId is { } clientId && auth.Audience is null)
        {
            // Entra writes the app registration into "aud": its client id (v2 tokens) or App ID URI (v1).
            yield return clientId;
            yield return "api://" + clientId;
        }
    }
}
