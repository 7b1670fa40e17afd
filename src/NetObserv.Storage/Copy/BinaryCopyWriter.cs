using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Encodes rows in PostgreSQL's binary COPY format (signature, rows of length-prefixed big-endian fields,
/// trailer) into a pooled buffer that is sent in chunks of about <see cref="ChunkBytes"/> over a raw COPY
/// stream (<see cref="Npgsql.NpgsqlConnection.BeginRawBinaryCopyAsync"/>). Values are encoded as Npgsql's
/// binary importer encodes them for the same column types, without its per-value type resolution and
/// state machines. Text must be clean (<see cref="FlowText.Clean(string?)"/>).
/// </summary>
internal sealed class BinaryCopyWriter : IDisposable
{
    /// <summary>A chunk is sent once the buffer holds at least this many bytes.</summary>
    public const int ChunkBytes = 1 << 16;

    /// <summary>Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).</summary>
    private const long PostgresEpochMicroseconds = 946_684_800_000_000;

    private static readonly byte[] s_signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y',
        (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    private byte[] _buffer;
    private int _length;

    public BinaryCopyWriter()
    {
        _buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes + 4096);
        // Signature, flags (0) and header extension length (0).
        s_signature.CopyTo(_buffer, 0);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(11), 0);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(15), 0);
        _length = 19;
    }

    /// <summary>
    /// Runs <paramref name="copySql"/> (a binary COPY FROM STDIN) over a raw COPY stream, sending the rows
    /// <paramref name="writeRow"/> encodes for <paramref name="rows"/> in chunks of about <see cref="ChunkBytes"/>.
    /// An error the server reports surfaces when the stream is closed; on any other the COPY is cancelled.
    /// </summary>
    public static async Task CopyAsync<T>(NpgsqlConnection connection, string copySql, IEnumerable<T> rows,
        Action<BinaryCopyWriter, T> writeRow, CancellationToken cancellationToken)
    {
        var stream = await connection.BeginRawBinaryCopyAsync(copySql, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var writer = new BinaryCopyWriter();
            try
            {
                foreach (var row in rows)
                {
                    writeRow(writer, row);
                    if (writer.Full)
                    {
                        await stream.WriteAsync(writer.Pending, cancellationToken).ConfigureAwait(false);
                        writer.Sent();
                    }
                }

                writer.Trailer();
                await stream.WriteAsync(writer.Pending, cancellationToken).ConfigureAwait(false);
                writer.Sent();
            }
            catch
            {
                await stream.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>True once the buffer holds a chunk worth sending.</summary>
    public bool Full => _length >= ChunkBytes;

    /// <summary>The encoded bytes not sent yet.</summary>
    public ReadOnlyMemory<byte> Pending => _buffer.AsMemory(0, _length);

    /// <summary>Forgets the bytes of <see cref="Pending"/> (they were sent).</summary>
    public void Sent() => _length = 0;

    /// <summary>Begins a row of <paramref name="fields"/> fields.</summary>
    public void StartRow(short fields)
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_length), fields);
        _length += 2;
    }

    /// <summary>The end of the data (after the last row).</summary>
    public void Trailer()
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_length), -1);
        _length += 2;
    }

    public void Null()
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_length), -1);
        _length += 4;
    }

    public void Int16(short value) => BinaryPrimitives.WriteInt16BigEndian(Field(2), value);

    public void Int32(int value) => BinaryPrimitives.WriteInt32BigEndian(Field(4), value);

    public void Int64(long value) => BinaryPrimitives.WriteInt64BigEndian(Field(8), value);

    /// <summary>
    /// A <c>timestamptz</c> for a Unix epoch millisecond time already clamped with <see cref="FlowTime.Clamp"/>;
    /// the lower bound (<see cref="DateTime.MinValue"/>) is <c>-infinity</c>, as Npgsql writes it.
    /// </summary>
    public void Timestamp(long clampedUnixMs) =>
        Int64(clampedUnixMs <= FlowTime.MinMs ? long.MinValue : (clampedUnixMs * 1000) - PostgresEpochMicroseconds);

    /// <summary>An <c>inet</c> host address (netmask 32 or 128).</summary>
    public void Inet(IPAddress value)
    {
        Ensure(4 + 4 + 16);
        var span = _buffer.AsSpan(_length);
        var v6 = value.AddressFamily == AddressFamily.InterNetworkV6;
        if (!value.TryWriteBytes(span[8..], out var written))
        {
            throw new ArgumentException($"address {value} cannot be written", nameof(value));
        }

        BinaryPrimitives.WriteInt32BigEndian(span, 4 + written);
        span[4] = (byte)(v6 ? 3 : 2);
        span[5] = (byte)(v6 ? 128 : 32);
        span[6] = 0;
        span[7] = (byte)written;
        _length += 8 + written;
    }

    /// <summary>A <c>text</c> value (UTF-8).</summary>
    public void Text(string value) => Utf8(value, jsonb: false);

    /// <summary>A <c>jsonb</c> value: format version 1 then the JSON text.</summary>
    public void Jsonb(string value) => Utf8(value, jsonb: true);

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Utf8(string value, bool jsonb)
    {
        var prefix = jsonb ? 1 : 0;
        Ensure(4 + prefix + Encoding.UTF8.GetMaxByteCount(value.Length));
        var span = _buffer.AsSpan(_length + 4);
        if (jsonb)
        {
            span[0] = 1;
        }

        var bytes = Encoding.UTF8.GetBytes(value, span[prefix..]);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_length), prefix + bytes);
        _length += 4 + prefix + bytes;
    }

    /// <summary>A field of <paramref name="size"/> bytes: writes its length and returns the room for its value.</summary>
    private Span<byte> Field(int size)
    {
        Ensure(4 + size);
        var span = _buffer.AsSpan(_length, 4 + size);
        BinaryPrimitives.WriteInt32BigEndian(span, size);
        _length += 4 + size;
        return span[4..];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            Grow(bytes);
        }
    }

    private void Grow(int bytes)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
