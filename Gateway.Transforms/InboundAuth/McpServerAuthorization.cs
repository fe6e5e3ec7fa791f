using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.InboundAuth;

/// <summary>The authorization of one server's route: an authenticated caller with the scopes and roles routes.yaml asks for.</summary>
internal sealed class McpServerAccessRequirement(string server) : IAuthorizationRequirement
{
    public string Server { get; } = server;
}

/// <summary>Checks <see cref="McpServerAccessRequirement"/> against the request's options snapshot, so an edit of routes.yaml applies at once.</summary>
internal sealed class McpServerAccessHandler : AuthorizationHandler<McpServerAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, McpServerAccessRequirement requirement)
    {
        // The resource of endpoint authorization is the HttpContext; its MCP context has the options in force.
        if (context.Resource is not HttpContext http || http.Features.Get<McpRequestContext>() is not { } request || request.Server != requirement.Server)
        {
            context.Fail(new AuthorizationFailureReason(this, "The server is no longer configured."));
            return Task.CompletedTask;
        }

        var server = request.Options;
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

    public static string PolicyNameOf(string server) => Prefix + server;

    // Policies follow routes.yaml, which can change while running.
    public override bool AllowsCachingPolicies => false;

    public override Task<AuthorizationPolicy?> GetPolicyAsync(string policyName)
    {
        ArgumentNullException.ThrowIfNull(policyName);
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
