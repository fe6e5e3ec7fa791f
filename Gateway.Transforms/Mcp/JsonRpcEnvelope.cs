namespace Gateway.Mcp;

/// <summary>What a JSON-RPC message is: the three shapes a client may POST.</summary>
public enum JsonRpcMessageKind
{
    /// <summary>Has a <c>method</c> and an <c>id</c>; expects an answer.</summary>
    Request,

    /// <summary>Has a <c>method</c> and no <c>id</c>.</summary>
    Notification,

    /// <summary>Has an <c>id</c> and a <c>result</c> or <c>error</c> (a client answering a server request).</summary>
    Response,
}

/// <summary>The parts of one JSON-RPC message the gateway routes, validates and measures by; the rest of the body is not read.</summary>
/// <param name="Kind">Request, notification or response.</param>
/// <param name="Method">The <c>method</c>; null for responses.</param>
/// <param name="Id">The raw JSON of the <c>id</c> (a string with its quotes, or a number); empty when absent.</param>
/// <param name="Name">The <c>params.name</c> of <c>tools/call</c> and <c>prompts/get</c>.</param>
/// <param name="Uri">The <c>params.uri</c> of <c>resources/*</c>.</param>
public sealed record JsonRpcEnvelope(
    JsonRpcMessageKind Kind,
    string? Method,
    ReadOnlyMemory<byte> Id,
    string? Name,
    string? Uri);
