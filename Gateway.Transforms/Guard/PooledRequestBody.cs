using System.Buffers;

namespace Gateway.Transforms.Guard;

/// <summary>A request body read once into a pooled buffer, returned to the pool when the request ends.</summary>
/// <remarks>
/// Reading the body whole is what lets the gateway refuse a bad message before the upstream sees a byte; the same
/// buffer is then what YARP forwards, so the body is copied once.
/// </remarks>
internal sealed class PooledRequestBody : IDisposable
{
    private const int InitialSize = 4096;
    private byte[]? _buffer;

    private PooledRequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>A read-only stream over the body, for forwarding.</summary>
    public Stream OpenRead() => new MemoryStream(_buffer!, 0, Length, writable: false);

    /// <summary>Reads the whole body, or returns null as soon as it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<PooledRequestBody?> ReadAsync(Stream body, long? contentLength, long limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(contentLength ?? InitialSize, limit) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    var result = new PooledRequestBody(buffer, length);
                    buffer = null;
                    return result;
                }

                length += read;
                if (length > limit)
                {
                    return null;
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
