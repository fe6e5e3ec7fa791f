using System.Text;
using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Transforms.InboundAuth;

/// <summary>
/// Answers refused MCP requests the way MCP clients discover authorization: 401 with
/// <c>WWW-Authenticate: Bearer resource_metadata="…", scope="…"</c> (plus <c>error="invalid_token"</c> when a token was
/// presented), 403 with <c>error="insufficient_scope"</c>; each with a JSON-RPC error body. Other endpoints keep the default.
/// </summary>
internal sealed partial class McpChallengeWriter(ILogger<McpChallengeWriter> logger) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (context.Features.Get<McpRequestContext>() is not { } request || authorizeResult.Succeeded || !(authorizeResult.Challenged || authorizeResult.Forbidden))
        {
            await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
            return;
        }

        var server = request.Server;
        var metadataUrl = McpResources.MetadataUrlOf(context.Request, server, request.Gateway);
        var scopes = string.Join(' ', request.Options.Auth.Scopes);
        var challenge = new StringBuilder("Bearer resource_metadata=\"").Append(metadataUrl).Append('"');
        if (scopes.Length > 0)
        {
            challenge.Append(", scope=\"").Append(scopes).Append('"');
        }

        int status, code;
        string message;
        if (authorizeResult.Forbidden)
        {
            var reason = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "The token does not grant access to this server.";
            (status, code, message) = (StatusCodes.Status403Forbidden, JsonRpcErrorCodes.InsufficientScope, reason);
            challenge.Append(", error=\"insufficient_scope\", error_description=\"").Append(reason).Append('"');
        }
        else if ((await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme).ConfigureAwait(false)).Failure is { } failure)
        {
            var reason = Describe(failure);
            (status, code, message) = (StatusCodes.Status401Unauthorized, JsonRpcErrorCodes.Unauthorized, reason);
            challenge.Append(", error=\"invalid_token\", error_description=\"").Append(reason).Append('"');
            LogTokenRejected(logger, server, reason);
        }
        else
        {
            (status, code, message) = (StatusCodes.Status401Unauthorized, JsonRpcErrorCodes.Unauthorized,
                $"Authorization required: send 'Authorization: Bearer <token>' with a token for this server. Its OAuth metadata is at {metadataUrl}.");
        }

        context.Response.Headers.WWWAuthenticate = challenge.ToString();
        await McpErrorResponse.WriteAsync(context, status, code, message).ConfigureAwait(false);
    }

    /// <summary>Why a token was refused, in words safe to send back (no token content, no key material).</summary>
    private static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenInvalidAudienceException or WrongAudienceException => "The token is not for this server (audience).",
        SecurityTokenInvalidIssuerException => "The token was not issued by the issuer this gateway trusts.",
        SecurityTokenSignatureKeyNotFoundException => "The token is signed with a key the issuer does not publish.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted.",
        SecurityTokenInvalidSignatureException => "The token's signature is not valid.",
        SecurityTokenNoExpirationException => "The token has no expiry.",
        _ => "The token is not valid.",
    };

    // One line, not the exception: anyone can send a bad token, and a stack trace per attempt floods the log.
    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a token for server {Server}: {Reason}")]
    private static partial void LogTokenRejected(ILogger logger, string server, string reason);
}

/// <summary>A token valid at its issuer but meant for another server.</summary>
internal sealed class WrongAudienceException(string message) : SecurityTokenValidationException(message);
