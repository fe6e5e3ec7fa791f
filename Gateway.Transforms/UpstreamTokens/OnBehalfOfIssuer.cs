using Microsoft.Extensions.Logging;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>Entra ID On-Behalf-Of through Microsoft.Identity.Web: the caller's token for one for the upstream API.</summary>
internal sealed partial class OnBehalfOfIssuer(ITokenAcquisition tokenAcquisition, ILogger<OnBehalfOfIssuer> logger) : IUpstreamTokenIssuer
{
    public UpstreamAuthStrategy Strategy => UpstreamAuthStrategy.OnBehalfOf;

    public async Task<UpstreamToken> IssueAsync(UpstreamTokenRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var result = await tokenAcquisition.GetAuthenticationResultForUserAsync(
                request.Options.Scopes, user: request.User, tokenAcquisitionOptions: new TokenAcquisitionOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
            return UpstreamToken.Issued(result.AccessToken, result.ExpiresOn);
        }
        catch (MsalServiceException ex) when (ex.StatusCode is >= 400 and < 500)
        {
            LogRefused(logger, request.Server, ex.ErrorCode);
            return UpstreamToken.Failed(UpstreamTokenFailure.Refused, $"Entra ID refused a token for upstream server '{request.Server}' ({ex.ErrorCode}).");
        }
        catch (Exception ex) when (ex is MsalException or HttpRequestException or MicrosoftIdentityWebChallengeUserException)
        {
            LogFailed(logger, request.Server, ex.Message);
            return UpstreamToken.Failed(UpstreamTokenFailure.Unreachable, $"Entra ID could not be reached for a token for upstream server '{request.Server}'. Try again later.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entra ID refused an On-Behalf-Of token for server {Server}: {Error}")]
    private static partial void LogRefused(ILogger logger, string server, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "No On-Behalf-Of token for server {Server}: {Detail}")]
    private static partial void LogFailed(ILogger logger, string server, string detail);
}
