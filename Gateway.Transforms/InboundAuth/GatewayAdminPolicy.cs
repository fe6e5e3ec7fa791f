using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Transforms.InboundAuth;

/// <summary>
/// Who may use <c>/api/v1</c> (services and dashboard): with <c>gateway.auth</c>, a valid token carrying one of
/// <c>gateway.auth.adminRoles</c>; without it, anyone who can reach the gateway, as for its MCP servers.
/// </summary>
internal static class GatewayAdminPolicy
{
    public const string Name = "gateway-admin";

    public static void Add(AuthorizationOptions options, AuthOptions? auth)
    {
        options.AddPolicy(Name, policy =>
        {
            if (auth is null)
            {
                policy.RequireAssertion(static _ => true);
                return;
            }

            var roles = auth.EffectiveAdminRoles;
            policy.AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => roles.Any(role => TokenClaims.HasRole(context.User, role)));
        });
    }

    public static TBuilder RequireGatewayAdmin<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(Name);
}
