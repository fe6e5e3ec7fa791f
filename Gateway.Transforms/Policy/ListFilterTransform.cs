using System.Buffers;
using System.Net.Http.Headers;
using Gateway.Mcp;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.Streaming;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Filters the answer to a <c>tools/list</c>, <c>prompts/list</c>, <c>resources/list</c> or
/// <c>resources/templates/list</c> of a server whose lists restrict it: a JSON answer is read whole and rewritten
/// (its length set anew); an SSE answer is rewritten event by event as it streams (<see cref="EventStreamListFilter"/>).
/// Answers to every other request are not touched, nor read.
/// </summary>
internal sealed class ListFilterTransform(ToolPins pins) : ResponseTransform
{
    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse is not { IsSuccessStatusCode: true } answer
            || context.HttpContext.GetMcpRequest() is not { Envelope: { } envelope } request
            || ListFilter.For(request.Server, request.Options, envelope.Method, request.Body?.Memory ?? default, context.HttpContext.User, pins) is not { } filter)
        {
            return;
        }

        if (answer.Content.Headers.ContentEncoding.Any(coding => !coding.Equals("identity", StringComparison.OrdinalIgnoreCase)))
        {
            // AccessListMiddleware asked for no encoding; an answer the gateway cannot read is not passed unfiltered.
            context.HttpContext.Response.Headers.ContentEncoding = default;
            context.HttpContext.Response.StatusCode = StatusCodes.Status502BadGateway;
            var error = new ArrayBufferWriter<byte>();
            JsonRpcErrorResponse.Write(error, JsonRpcErrorCodes.UpstreamUnavailable, "The server's list answer is compressed, so the gateway cannot filter it.", envelope.Id);
            Replace(context, answer, error.WrittenMemory, McpMediaTypes.Json);
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
            Replace(context, answer, await filter.FilterAsync(body, context.CancellationToken).ConfigureAwait(false) ?? body, McpMediaTypes.Json);
        }
    }

    private static void Replace(ResponseTransformContext context, HttpResponseMessage answer, ReadOnlyMemory<byte> body, string mediaType)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        answer.Content.Dispose();
        answer.Content = content;
        context.HttpContext.Response.ContentLength = body.Length;
        context.HttpContext.Response.ContentType = mediaType;
    }
}
