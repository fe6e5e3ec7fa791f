using System.Security.Claims;
using Gateway.Transforms.InboundAuth;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>What a token for one upstream is asked for with: the server, its settings, and the caller.</summary>
/// <param name="Server">The server name.</param>
/// <param name="Options">The server's <c>upstreamAuth</c>.</param>
/// <param name="User">The authenticated caller's principal (anonymous for the gateway's own identity).</param>
/// <param name="Caller">Who the caller is, as the request's context has it.</param>
/// <param name="SubjectToken">The caller's access token, for strategies that act for the caller.</param>
public sealed record UpstreamTokenRequest(string Server, UpstreamAuthOptions Options, ClaimsPrincipal User, McpCaller Caller, string? SubjectToken);

/// <summary>Obtains tokens for one <see cref="UpstreamAuthStrategy"/> from an IdP; the cache sits in front.</summary>
public interface IUpstreamTokenIssuer
{
    /// <summary>The strategy this issuer serves.</summary>
    UpstreamAuthStrategy Strategy { get; }

    /// <summary>Gets a fresh token. IdP refusals and outages come back as failed tokens, not exceptions.</summary>
    Task<UpstreamToken> IssueAsync(UpstreamTokenRequest request, CancellationToken cancellationToken);
}
