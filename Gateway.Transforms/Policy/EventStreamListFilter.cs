using System.Buffers;
using Gateway.Mcp;
using Gateway.Transforms.Streaming;

namespace Gateway.Transforms.Policy;

/// <summary>
/// An SSE answer, rewritten event by event: every event is passed as soon as it is whole, a list result filtered
/// (<see cref="ListFilter"/>), any other message unchanged. What the gateway cannot read as a client would, it cuts
/// rather than pass unfiltered: JSON data it cannot parse, bare CR line endings, an event over 16 MiB.
/// </summary>
/// <remarks>
/// Every event is looked at, not only the first list result: a server could send a decoy result before the real one.
/// A POST's answer is short-lived and its events few, so this costs no more than reading its result. A list request's
/// stream that ends without its answer gets an error in its place, so that the client is not left waiting for an
/// answer the server could slip in elsewhere. An idle stream holds no buffer: reads wait with zero-byte reads.
/// </remarks>
internal sealed class EventStreamListFilter(Stream upstream, ListFilter filter) : ReadThroughStream(upstream)
{
    private const int ReadSize = 16 * 1024;
    private const int InitialSize = 1024;
    private const int MaxEventBytes = 16 * 1024 * 1024;
    private static readonly byte[] DataField = "data:"u8.ToArray();

    private readonly ArrayBufferWriter<byte> _pending = new(InitialSize);
    private readonly ArrayBufferWriter<byte> _ready = new(InitialSize);
    private int _readyOffset;
    private int _searched;
    private bool _answered;
    private bool _ended;

    // YARP copies bodies asynchronously; a synchronous read would bypass the filter.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The filtered event stream is read asynchronously.");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_readyOffset < _ready.WrittenCount)
            {
                var count = Math.Min(buffer.Length, _ready.WrittenCount - _readyOffset);
                _ready.WrittenMemory.Slice(_readyOffset, count).CopyTo(buffer);
                _readyOffset += count;
                return count;
            }

            if (_ended)
            {
                return 0;
            }

            _ready.ResetWrittenCount();
            _readyOffset = 0;
            if (buffer.IsEmpty)
            {
                // YARP waits for data with a zero-byte read: wait the same way, holding no buffer while nothing comes.
                return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            var read = await Inner.ReadAsync(_pending.GetMemory(ReadSize), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                // A last event without its blank line is judged as a whole one.
                RefuseBareCarriageReturn(_pending.WrittenSpan, atEnd: true);
                await TakeEventAsync(_pending.WrittenMemory, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                _pending.ResetWrittenCount();
                _ended = true;
                if (filter.AnswersARequest && !_answered)
                {
                    WriteMissingAnswer();
                }

                continue;
            }

            _pending.Advance(read);
            await TakeWholeEventsAsync(cancellationToken).ConfigureAwait(false);
            if (_pending.WrittenCount > MaxEventBytes)
            {
                throw new IOException($"An event of the server's list answer is longer than {MaxEventBytes} bytes; the answer is cut rather than passed unfiltered.");
            }
        }
    }

    /// <summary>Moves every whole event of what was read to what is ready to be returned.</summary>
    private async ValueTask TakeWholeEventsAsync(CancellationToken cancellationToken)
    {
        var pending = _pending.WrittenMemory;
        RefuseBareCarriageReturn(pending.Span[Math.Max(0, _searched - 1)..], atEnd: false);
        var start = 0;
        while (true)
        {
            var (length, separator) = EndOfEvent(pending.Span[start..], start == 0 ? _searched : 0);
            if (length < 0)
            {
                // Where to look on when more has come: before the last bytes, which may begin the blank line.
                _searched = Math.Max(0, pending.Length - start - 3);
                break;
            }

            _searched = 0;
            await TakeEventAsync(pending.Slice(start, length), pending.Slice(start + length, separator), cancellationToken).ConfigureAwait(false);
            start += length + separator;
        }

        if (start > 0)
        {
            // Once an event is taken, not on every read: copying what is pending at each read of a long event would
            // cost its length squared.
            var rest = pending.Span[start..].ToArray();
            _pending.ResetWrittenCount();
            _pending.Write(rest);
        }
    }

    /// <summary>Readies one event (its field lines, then the blank line after them): as it came, or with its list filtered.</summary>
    private async ValueTask TakeEventAsync(ReadOnlyMemory<byte> lines, ReadOnlyMemory<byte> separator, CancellationToken cancellationToken)
    {
        var (data, others) = Fields(lines.Span);
        var filtered = data.WrittenCount == 0 ? default : await filter.FilterAsync(data.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _answered |= filtered.AnswersRequest;
        switch (filtered.Outcome)
        {
            case ListFilterOutcome.Rewritten:
                _ready.Write(others.WrittenSpan);
                _ready.Write(DataField);
                _ready.Write(" "u8);
                _ready.Write(filtered.Message.Span);
                break;
            case ListFilterOutcome.Unreadable when LooksLikeJson(data.WrittenSpan):
                throw new IOException("An event of the server's list answer is JSON the gateway cannot read; the answer is cut rather than passed unfiltered.");
            default:
                _ready.Write(lines.Span);
                break;
        }

        _ready.Write(separator.Span);
    }

    /// <summary>An error in place of the answer the stream did not carry.</summary>
    private void WriteMissingAnswer()
    {
        if (_ready.WrittenCount > 0 && !_ready.WrittenSpan.EndsWith("\n\n"u8))
        {
            _ready.Write("\n\n"u8);
        }

        _ready.Write("event: message\ndata: "u8);
        JsonRpcErrorResponse.Write(_ready, JsonRpcErrorCodes.UpstreamUnavailable, "The server ended the answer stream without the answer to the list.", filter.RequestIdJson);
        _ready.Write("\n\n"u8);
    }

    /// <summary>An event's data (its <c>data:</c> lines joined) and its other field lines.</summary>
    private static (ArrayBufferWriter<byte> Data, ArrayBufferWriter<byte> Others) Fields(ReadOnlySpan<byte> lines)
    {
        var data = new ArrayBufferWriter<byte>(Math.Max(lines.Length, 1));
        var others = new ArrayBufferWriter<byte>(256);
        foreach (var range in lines.Split((byte)'\n'))
        {
            var line = lines[range].TrimEnd((byte)'\r');
            if (line.StartsWith(DataField))
            {
                var value = line[DataField.Length..];
                if (data.WrittenCount > 0)
                {
                    data.Write("\n"u8);
                }

                data.Write(value.Length > 0 && value[0] == (byte)' ' ? value[1..] : value);
            }
            else if (!line.IsEmpty)
            {
                others.Write(line);
                others.Write("\n"u8);
            }
        }

        return (data, others);
    }

    // Data a client would not parse as JSON either passes; data it might is not passed unread.
    private static bool LooksLikeJson(ReadOnlySpan<byte> data) =>
        data.TrimStart(" \t\n\r"u8) is { IsEmpty: false } text && (text[0] is (byte)'{' or (byte)'[' || text.StartsWith("\uFEFF"u8));

    /// <summary>
    /// SSE ends lines with CR too, which the gateway does not split events at: a client would see events where the
    /// gateway sees none, so such an answer is cut.
    /// </summary>
    private static void RefuseBareCarriageReturn(ReadOnlySpan<byte> text, bool atEnd)
    {
        for (var i = text.IndexOf((byte)'\r'); i >= 0; i = text[(i + 1)..].IndexOf((byte)'\r') is var next and >= 0 ? i + 1 + next : -1)
        {
            if (i + 1 < text.Length ? text[i + 1] != (byte)'\n' : atEnd)
            {
                throw new IOException("The server's list answer ends SSE lines with a bare CR; the answer is cut rather than passed unfiltered.");
            }
        }
    }

    /// <summary>Where the first event ends (before its blank line) and how long that line break is; Length -1 when no event is whole yet.</summary>
    /// <param name="text">What is pending, from the event's start.</param>
    /// <param name="from">Where to look for line feeds: what lies before was looked at already.</param>
    private static (int Length, int Separator) EndOfEvent(ReadOnlySpan<byte> text, int from)
    {
        // A blank line of its own.
        if (text.StartsWith("\n"u8))
        {
            return (0, 1);
        }

        if (text.StartsWith("\r\n"u8))
        {
            return (0, 2);
        }

        for (var i = NextLineFeed(text, from - 1); i >= 0 && i + 1 < text.Length; i = NextLineFeed(text, i))
        {
            if (text[i + 1] == (byte)'\n')
            {
                return (i, 2);
            }

            if (text[i + 1] == (byte)'\r' && i + 2 < text.Length && text[i + 2] == (byte)'\n')
            {
                return (i > 0 && text[i - 1] == (byte)'\r' ? i - 1 : i, i > 0 && text[i - 1] == (byte)'\r' ? 4 : 3);
            }
        }

        return (-1, 0);
    }

    private static int NextLineFeed(ReadOnlySpan<byte> text, int after) => text[(after + 1)..].IndexOf((byte)'\n') is var next and >= 0 ? after + 1 + next : -1;
}
