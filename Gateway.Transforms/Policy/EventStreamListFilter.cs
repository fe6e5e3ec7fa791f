using System.Buffers;
using Gateway.Transforms.Streaming;

namespace Gateway.Transforms.Policy;

/// <summary>
/// An SSE answer, rewritten event by event: the event that carries the list result is filtered
/// (<see cref="ListFilter"/>); every other event passes unchanged as soon as it is whole. Once the result has passed,
/// the rest of the stream is read straight through.
/// </summary>
internal sealed class EventStreamListFilter(Stream upstream, ListFilter filter) : ReadThroughStream(upstream)
{
    private const int ReadSize = 16 * 1024;

    // An event longer than this is not held to be filtered: the answer is cut rather than passed unfiltered.
    private const int MaxEventBytes = 16 * 1024 * 1024;
    private static readonly byte[] DataField = "data:"u8.ToArray();

    private readonly ArrayBufferWriter<byte> _pending = new(ReadSize);
    private readonly ArrayBufferWriter<byte> _ready = new(ReadSize);
    private int _readyOffset;
    private bool _filtered;
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
            if (_filtered && _pending.WrittenCount == 0)
            {
                return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            var read = await Inner.ReadAsync(_pending.GetMemory(ReadSize), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                // A last event without its blank line is judged as a whole one.
                var last = _filtered ? null : await FilteredEventAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
                _ready.Write(last ?? _pending.WrittenMemory.ToArray());
                _pending.ResetWrittenCount();
                _ended = true;
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

    /// <summary>Moves every whole event of what was read to what is ready to be returned, the list result filtered.</summary>
    private async ValueTask TakeWholeEventsAsync(CancellationToken cancellationToken)
    {
        var pending = _pending.WrittenMemory;
        var start = 0;
        while (!_filtered)
        {
            var (length, separator) = EndOfEvent(pending.Span[start..]);
            if (length < 0)
            {
                break;
            }

            var whole = pending.Slice(start, length + separator);
            if (pending.Span.Slice(start, length).IndexOf("\"result\""u8) >= 0
                && await FilteredEventAsync(pending.Slice(start, length), cancellationToken).ConfigureAwait(false) is { } rewritten)
            {
                _ready.Write(rewritten);
                _ready.Write(pending.Span.Slice(start + length, separator));
                _filtered = true;
            }
            else
            {
                _ready.Write(whole.Span);
            }

            start += whole.Length;
        }

        if (_filtered)
        {
            // What follows the result is read straight through: hand over what is already here.
            _ready.Write(pending.Span[start..]);
            start = pending.Length;
        }

        var rest = pending.Span[start..].ToArray();
        _pending.ResetWrittenCount();
        _pending.Write(rest);
    }

    /// <summary>The event's field lines with the data replaced by the filtered message; null when the event carries no list result.</summary>
    private async ValueTask<byte[]?> FilteredEventAsync(ReadOnlyMemory<byte> lines, CancellationToken cancellationToken)
    {
        var (data, others) = Fields(lines.Span);
        if (data.WrittenCount == 0 || await filter.FilterAsync(data.WrittenMemory, cancellationToken).ConfigureAwait(false) is not { } filtered)
        {
            return null;
        }

        others.Write(DataField);
        others.Write(" "u8);
        others.Write(filtered.Span);
        return others.WrittenSpan.ToArray();
    }

    /// <summary>An event's data (its <c>data:</c> lines joined) and its other field lines.</summary>
    private static (ArrayBufferWriter<byte> Data, ArrayBufferWriter<byte> Others) Fields(ReadOnlySpan<byte> lines)
    {
        var data = new ArrayBufferWriter<byte>();
        var others = new ArrayBufferWriter<byte>();
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
            else
            {
                others.Write(line);
                others.Write("\n"u8);
            }
        }

        return (data, others);
    }

    /// <summary>Where the first event ends (before its blank line) and how long that line break is; Length -1 when no event is whole yet.</summary>
    private static (int Length, int Separator) EndOfEvent(ReadOnlySpan<byte> text)
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

        for (var i = text.IndexOf((byte)'\n'); i >= 0 && i + 1 < text.Length; i = NextLineFeed(text, i))
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
