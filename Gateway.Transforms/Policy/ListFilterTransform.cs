using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.Streaming;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Filters the answer to a <c>tools/list</c>, <c>prompts/list</c>, <c>resources/list</c> or
/// <c>resources/templates/list</c> of a server whose lists restrict it: a JSON answer is read whole and rewritten
/// (its length set anew); an SSE answer is rewritten event by event as it streams (<see cref="EventStreamListFilter"/>).
/// Answers to every other request are not touched, nor read.
/// </summary>
internal sealed class ListFilterTransform : ResponseTransform
{
    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse is not { IsSuccessStatusCode: true } answer
            || context.HttpContext.GetMcpRequest() is not { Envelope: { } envelope } request
            || ListFilter.For(request.Options, envelope.Method, envelope.Id, context.HttpContext.User) is not { } filter)
        {
            return;
        }

        var mediaType = answer.Content.Headers.ContentType?.MediaType;
        if (string.Equals(mediaType, McpMediaTypes.EventStream, StringComparison.OrdinalIgnoreCase))
        {
            answer.Content = new WrappedStreamContent(answer.Content, upstream => new EventStreamListFilter(upstream, filter));
        }
        else if (string.Equals(mediaType, McpMediaTypes.Json, StringComparison.OrdinalIgnoreCase))
        {
            var body = await answer.Content.ReadAsByteArrayAsync(context.CancellationToken).ConfigureAwait(false);
            var filtered = filter.Filter(body) ?? body;
            var content = new ByteArrayContent(filtered);
            content.Headers.ContentType = answer.Content.Headers.ContentType;
            answer.Content.Dispose();
            answer.Content = content;
            context.HttpContext.Response.ContentLength = filtered.Length;
        }
    }
}
