using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// A client's request sent to a member under an id of the gateway's, so that the client's cancellation is told the
/// member (<c>notifications/cancelled</c>) before the request is given up; the member's progress comes to a token
/// of the gateway's and is relayed, as the member's messages are read, to the client's.
/// </summary>
internal sealed class MemberRequests(TimeProvider time)
{
    private const string ProtocolMetaPrefix = "io.modelcontextprotocol/";
    private static long _nextRequestId;
    private readonly ConcurrentDictionary<string, ProgressRelay> _progress = new(StringComparer.Ordinal);

    public async ValueTask<JsonNode?> SendAsync(McpClient client, string method, JsonObject parameters, ProgressRelay? progress, TimeSpan cancelTimeout, CancellationToken cancellationToken)
    {
        var id = new RequestId("gateway-" + Interlocked.Increment(ref _nextRequestId).ToString(CultureInfo.InvariantCulture));
        var body = (JsonObject)parameters.DeepClone();
        var progressToken = "progress-" + id;
        if (progress is not null)
        {
            ((JsonObject)(body["_meta"] ??= new JsonObject()))["progressToken"] = progressToken;
            _progress[progressToken] = progress;
        }

        using var abandoned = new CancellationTokenSource();
        var registration = cancellationToken.Register(() => _ = CancelAtMemberAsync(client, id, cancelTimeout, abandoned));
        try
        {
            var response = await client.SendRequestAsync(new JsonRpcRequest { Id = id, Method = method, Params = body }, abandoned.Token).ConfigureAwait(false);
            return response.Result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        finally
        {
            await registration.DisposeAsync().ConfigureAwait(false);
            _progress.TryRemove(progressToken, out _);
        }
    }

    /// <summary>Sees each message of the member's as it is read (<see cref="ObservedClientTransport"/>): progress is relayed in that order.</summary>
    public void Observe(JsonRpcMessage message)
    {
        try
        {
            RelayProgress(message);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException)
        {
            // A malformed progress notification of the member's: this runs in the SDK's read loop, which must go on.
        }
    }

    /// <summary>
    /// A client's request <c>params</c> as the member should see them: every field as the client sent it (a task
    /// request included), the member's own name, the <c>_meta</c> of <see cref="MemberMetaOf"/>, and without the
    /// multi round-trip fields of the client's hop (<c>requestState</c>, <c>inputResponses</c>).
    /// </summary>
    /// <remarks>With <c>keepProgressToken</c>, the client's progress token stays: a call sent straight down the member's route sends its progress straight to the client.</remarks>
    public static JsonObject MemberParamsOf(JsonNode? clientParams, string name, bool keepProgressToken = false)
    {
        var parameters = clientParams is JsonObject given ? (JsonObject)given.DeepClone() : [];
        parameters["name"] = name;
        parameters.Remove("requestState");
        parameters.Remove("inputResponses");
        if (MemberMetaOf(parameters["_meta"] as JsonObject, keepProgressToken) is { } meta)
        {
            parameters["_meta"] = meta;
        }
        else
        {
            parameters.Remove("_meta");
        }

        return parameters;
    }

    /// <summary>
    /// The client's <c>_meta</c> as the member should see it: without the progress token (the member's progress comes
    /// to the gateway's own and is relayed under the client's), and without the protocol's per-request keys of
    /// 2026-07-28 (<c>io.modelcontextprotocol/…</c>), which describe the client's hop, not the member's.
    /// </summary>
    public static JsonObject? MemberMetaOf(JsonObject? meta, bool keepProgressToken = false)
    {
        if (meta is null)
        {
            return null;
        }

        var copy = new JsonObject();
        foreach (var (key, value) in meta)
        {
            if ((keepProgressToken || key != "progressToken") && !key.StartsWith(ProtocolMetaPrefix, StringComparison.Ordinal))
            {
                copy[key] = value?.DeepClone();
            }
        }

        return copy.Count > 0 ? copy : null;
    }

    private void RelayProgress(JsonRpcMessage message)
    {
        if (message is JsonRpcNotification { Method: NotificationMethods.ProgressNotification, Params: JsonObject parameters }
            && parameters["progressToken"]?.GetValueKind() == JsonValueKind.String
            && _progress.TryGetValue(parameters["progressToken"]!.GetValue<string>(), out var relay) && parameters["progress"] is { } progress)
        {
            relay.Report(new ProgressNotificationValue
            {
                Progress = progress.GetValue<float>(),
                Total = parameters["total"]?.GetValue<float>(),
                Message = parameters["message"]?.GetValue<string>(),
            });
        }
    }

    private async Task CancelAtMemberAsync(McpClient client, RequestId id, TimeSpan timeout, CancellationTokenSource abandoned)
    {
        try
        {
            using var limit = new CancellationTokenSource(timeout, time);
            await client.SendMessageAsync(
                new JsonRpcNotification
                {
                    Method = NotificationMethods.CancelledNotification,
                    Params = new JsonObject { ["requestId"] = id.ToString(), ["reason"] = "The client cancelled the request." },
                },
                limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException or McpException)
        {
            // The member is gone; giving the request up is all that is left.
        }
        finally
        {
            try
            {
                await abandoned.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The member answered meanwhile.
            }
        }
    }
}
