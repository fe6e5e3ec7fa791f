using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.InboundAuth;

/// <summary>The authorization of one server's route: an authenticated caller with the scopes and roles routes.yaml asks for.</summary>
internal sealed class McpServerAccessRequirement(string? server) : IAuthorizationRequirement
{
    /// <summary>The server; null for whichever server the request is for (a virtual server's endpoint serves them all).</summary>
    public string? Server { get; } = server;
}

/// <summary>Checks <see cref="McpServerAccessRequirement"/> against the request's options snapshot, so an edit of routes.yaml applies at once.</summary>
internal sealed class McpServerAccessHandler(RoutesConfigStore routes) : AuthorizationHandler<McpServerAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, McpServerAccessRequirement requirement)
    {
        // The resource of endpoint authorization is the HttpContext; its MCP context has the options in force.
        if (context.Resource is not HttpContext http || http.Features.Get<McpRequestContext>() is not { } request || (requirement.Server is not null && request.Server != requirement.Server))
        {
            context.Fail(new AuthorizationFailureReason(this, "The server is no longer configured."));
            return Task.CompletedTask;
        }

        var server = request.Options;
        if (requirement.Server is null)
        {
            // The request's own server decides whether a token is needed at all.
            if (!server.Auth.RequiresToken(routes.Startup.Auth))
            {
                context.Succeed(requirement);
                return Task.CompletedTask;
            }

            if (context.User.Identity?.IsAuthenticated != true)
            {
                context.Fail(new AuthorizationFailureReason(this, "No valid token."));
                return Task.CompletedTask;
            }
        }

        var missing = server.Auth.Scopes.Where(s => !TokenClaims.HasScope(context.User, s)).ToList();
        if (missing.Count > 0)
        {
            context.Fail(new AuthorizationFailureReason(this, $"The token lacks scope(s): {string.Join(' ', missing)}."));
        }
        else if (server.Auth.Roles.Count > 0 && !server.Auth.Roles.Any(r => TokenClaims.HasRole(context.User, r)))
        {
            context.Fail(new AuthorizationFailureReason(this, $"The token carries none of the roles: {string.Join(", ", server.Auth.Roles)}."));
        }
        else
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Serves the policy named by each MCP route (<c>mcp-server:&lt;name&gt;</c>); other names go to the default provider.</summary>
internal sealed class McpServerPolicyProvider(Microsoft.Extensions.Options.IOptions<AuthorizationOptions> options) : DefaultAuthorizationPolicyProvider(options)
{
    private const string Prefix = "mcp-server:";

    /// <summary>The policy of an endpoint that serves many servers: the request's own server's.</summary>
    public const string RequestServerPolicy = "mcp-server";

    public static string PolicyNameOf(string server) => Prefix + server;

    // Policies follow routes.yaml, which can change while running.
    public override bool AllowsCachingPolicies => false;

    public override Task<AuthorizationPolicy?> GetPolicyAsync(string policyName)
    {
        ArgumentNullException.ThrowIfNull(policyName);
        if (policyName == RequestServerPolicy)
        {
            return Task.FromResult<AuthorizationPolicy?>(new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme)
                .AddRequirements(new McpServerAccessRequirement(null))
                .Build());
        }

        if (!policyName.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return base.GetPolicyAsync(policyName);
        }

        var policy = new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .AddRequirements(new McpServerAccessRequirement(policyName[Prefix.Length..]))
            .Build();
        return Task.FromResult<AuthorizationPolicy?>(policy);
    }
}
