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
    // As an SSE event may be: a list answer longer than this is not held to be filtered.
    private const int MaxJsonBytes = 16 * 1024 * 1024;

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetMcpRequest();
        var envelope = request.Envelope;
        if (context.ProxyResponse is not { } answer || FilterOf(context.HttpContext, request, pins) is not { } filter)
        {
            return;
        }

        // A client follows a redirect to wherever it points, around the gateway; errors carry no list a client reads.
        if ((int)answer.StatusCode is >= 300 and < 400)
        {
            Refuse(context, answer, envelope, "The server answered the list with a redirect, which the gateway does not pass on for a list it filters.");
            return;
        }

        if (!answer.IsSuccessStatusCode)
        {
            return;
        }

        if (answer.Content.Headers.ContentLength == 0)
        {
            // A request is answered in its own answer: an empty one would leave the client waiting for one slipped in elsewhere.
            if (filter.AnswersARequest)
            {
                Refuse(context, answer, envelope, "The server answered the list request with no answer.");
            }

            return;
        }

        if (answer.Content.Headers.ContentEncoding.Any(coding => !coding.Equals("identity", StringComparison.OrdinalIgnoreCase)))
        {
            // AccessListMiddleware asked for no encoding; an answer the gateway cannot read is not passed unfiltered.
            Refuse(context, answer, envelope, "The server's list answer is compressed, so the gateway cannot filter it.");
            return;
        }

        var mediaType = answer.Content.Headers.ContentType?.MediaType;
        if (string.Equals(mediaType, McpMediaTypes.EventStream, StringComparison.OrdinalIgnoreCase))
        {
            answer.Content = new WrappedStreamContent(answer.Content, upstream => new EventStreamListFilter(upstream, filter));
            return;
        }

        if (!string.Equals(mediaType, McpMediaTypes.Json, StringComparison.OrdinalIgnoreCase))
        {
            Refuse(context, answer, envelope, "The server's list answer is neither JSON nor an event stream, so the gateway cannot filter it.");
            return;
        }

        byte[] body;
        try
        {
            await answer.Content.LoadIntoBufferAsync(MaxJsonBytes, context.CancellationToken).ConfigureAwait(false);
            body = await answer.Content.ReadAsByteArrayAsync(context.CancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            Refuse(context, answer, envelope, $"The server's list answer is longer than {MaxJsonBytes} bytes, so the gateway does not read it to filter it.");
            return;
        }

        var filtered = await filter.FilterAsync(body, context.CancellationToken).ConfigureAwait(false);
        if (filtered.Outcome == ListFilterOutcome.Unreadable)
        {
            Refuse(context, answer, envelope, "The server's list answer is not a JSON-RPC message the gateway can read, so it cannot filter it.");
            return;
        }

        Replace(context, answer, filtered.Message, McpMediaTypes.Json);
    }

    /// <summary>
    /// The filter of a list request's answer; or, for a GET stream, of any list answer it carries (replayed on
    /// resumption with <c>Last-Event-ID</c>, or slipped in by the server), whichever list that is.
    /// </summary>
    private static ListFilter? FilterOf(HttpContext context, McpRequestContext request, ToolPins pins) => request.Envelope is { } envelope
        ? ListFilter.For(request.Server, request.Options, envelope.Method, envelope.Id, request.Body?.Memory ?? default, context.User, pins)
        : HttpMethods.IsGet(context.Request.Method) ? ListFilter.ForStream(request.Server, request.Options, context.User, pins) : null;

    /// <summary>Answers the caller with a JSON-RPC error (502) in place of a list answer that cannot be filtered.</summary>
    private static void Refuse(ResponseTransformContext context, HttpResponseMessage answer, JsonRpcEnvelope? envelope, string message)
    {
        context.HttpContext.Response.Headers.ContentEncoding = default;
        context.HttpContext.Response.Headers.Location = default;
        context.HttpContext.Response.StatusCode = StatusCodes.Status502BadGateway;
        var error = new ArrayBufferWriter<byte>();
        JsonRpcErrorResponse.Write(error, JsonRpcErrorCodes.UpstreamUnavailable, message, envelope?.Id ?? default);
        Replace(context, answer, error.WrittenMemory, McpMediaTypes.Json);
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
