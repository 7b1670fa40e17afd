using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;

namespace NetObserv.Storage.Spill;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/> that <see cref="SpillCodec"/> encodes
/// into, writing exactly what <see cref="BinaryWriter"/> writes for the same values (little-endian integers,
/// strings as a 7-bit-encoded UTF-8 length then the bytes, invalid UTF-16 replaced by U+FFFD) without a stream
/// call per value. <see cref="Return"/> gives the array back; whoever holds <see cref="Array"/> last does it.
/// </summary>
internal struct SpillBuffer
{
    /// <summary>Bytes reserved per record when the buffer is rented (it grows when a batch needs more).</summary>
    private const int BytesPerRecord = 256;

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private byte[] _array;
    private int _length;

    /// <summary>A buffer whose first <paramref name="reserved"/> bytes are left for a header, sized for about <paramref name="records"/> records.</summary>
    public SpillBuffer(int reserved, int records)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(reserved + 64, reserved + (Math.Max(records, 1) * BytesPerRecord)));
        _length = reserved;
    }

    /// <summary>The rented array; its first <see cref="Length"/> bytes are the content.</summary>
    public readonly byte[] Array => _array;

    public readonly int Length => _length;

    /// <summary>Gives the array back to the pool (once; the buffer is unusable after).</summary>
    public void Return()
    {
        if (_array is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = [];
        _length = 0;
    }

    public void Byte(byte value)
    {
        Ensure(1);
        _array[_length++] = value;
    }

    public void Int32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);

    public void Int64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

    public void UInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

    /// <summary>A non-negative count as <see cref="BinaryWriter.Write7BitEncodedInt(int)"/> writes it.</summary>
    public void Count(int value)
    {
        Ensure(5);
        var v = (uint)value;
        while (v >= 0x80)
        {
            _array[_length++] = (byte)(v | 0x80);
            v >>= 7;
        }

        _array[_length++] = (byte)v;
    }

    /// <summary>As <see cref="BinaryWriter.Write(string)"/>: the UTF-8 byte length (7-bit encoded) then the bytes.</summary>
    public void Utf8(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= 127 && System.Text.Ascii.IsValid(value))
        {
            // The common case: one length byte, one byte per character.
            Ensure(1 + value.Length);
            _array[_length++] = (byte)value.Length;
            System.Text.Ascii.FromUtf16(value, _array.AsSpan(_length), out var written);
            _length += written;
            return;
        }

        var bytes = s_utf8.GetByteCount(value);
        Count(bytes);
        Ensure(bytes);
        _length += s_utf8.GetBytes(value, _array.AsSpan(_length));
    }

    /// <summary>An address: its length (4 or 16) then its bytes.</summary>
    public void Address(IPAddress address)
    {
        Ensure(17);
        if (!address.TryWriteBytes(_array.AsSpan(_length + 1), out var written))
        {
            throw new ArgumentException($"address {address} cannot be written", nameof(address));
        }

        _array[_length] = (byte)written;
        _length += 1 + written;
    }

    /// <summary>The next <paramref name="size"/> bytes, counted as written.</summary>
    private Span<byte> Take(int size)
    {
        Ensure(size);
        var span = _array.AsSpan(_length, size);
        _length += size;
        return span;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int bytes)
    {
        if (_length + bytes > _array.Length)
        {
            Grow(bytes);
        }
    }

    private void Grow(int bytes)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _length + bytes));
        _array.AsSpan(0, _length).CopyTo(larger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = larger;
    }
}
