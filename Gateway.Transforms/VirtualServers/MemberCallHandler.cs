using System.Net.Http.Headers;

namespace Gateway.Transforms.VirtualServers;

/// <summary>Sends each request to a member with the caller's latest token (when the virtual server checked one) and the session's ticket.</summary>
internal sealed class MemberCallHandler(Func<string?> authorization, MemberCallTicket ticket) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (authorization() is { } value && AuthenticationHeaderValue.TryParse(value, out var header))
        {
            request.Headers.Authorization = header;
        }

        request.Headers.TryAddWithoutValidation(MemberCallEndpoint.TicketHeader, ticket.Id);
        return base.SendAsync(request, cancellationToken);
    }
}
