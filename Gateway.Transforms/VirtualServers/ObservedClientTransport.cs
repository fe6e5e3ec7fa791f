using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// A member's transport whose messages are seen in the order they arrive, before the SDK handles them (which it does
/// concurrently): so a call's progress is relayed to the client before the call's result, as the member sent them.
/// </summary>
internal sealed class ObservedClientTransport(IClientTransport inner, Action<JsonRpcMessage> observe) : IClientTransport
{
    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        new ObservedTransport(await inner.ConnectAsync(cancellationToken).ConfigureAwait(false), observe);

    private sealed class ObservedTransport(ITransport inner, Action<JsonRpcMessage> observe) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader { get; } = new ObservedReader(inner.MessageReader, observe);

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => inner.SendMessageAsync(message, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class ObservedReader(ChannelReader<JsonRpcMessage> inner, Action<JsonRpcMessage> observe) : ChannelReader<JsonRpcMessage>
    {
        public override Task Completion => inner.Completion;

        public override bool TryRead([MaybeNullWhen(false)] out JsonRpcMessage item)
        {
            if (!inner.TryRead(out item))
            {
                return false;
            }

            observe(item);
            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);
    }
}
