using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;

namespace NetObserv.Flows.Ipfix;

/// <summary>
/// The values of one data or options record while its fields are read, on the stack: integers by
/// <see cref="IpfixFieldKind"/> with a presence bit each, addresses and the interface name aside.
/// </summary>
internal struct IpfixRecordValues
{
    private FieldValues _values;
    private ulong _present;

    public IPAddress? SourceAddress;
    public IPAddress? DestinationAddress;
    public string? InterfaceName;

    [InlineArray(64)]
    private struct FieldValues
    {
        private ulong _element;
    }

    public readonly bool Has(IpfixFieldKind kind) => (_present & (1UL << (int)kind)) != 0;

    public readonly ulong Get(IpfixFieldKind kind) => _values[(int)kind];

    /// <summary>The value as a non-negative long (counters past 2^63 are clamped).</summary>
    public readonly long GetLong(IpfixFieldKind kind) => (long)Math.Min(_values[(int)kind], long.MaxValue);

    public readonly int GetInt(IpfixFieldKind kind) => (int)Math.Min(_values[(int)kind], int.MaxValue);

    public void Set(IpfixFieldKind kind, ulong value)
    {
        _values[(int)kind] = value;
        _present |= 1UL << (int)kind;
    }

    /// <summary>Reads one field value; the template made sure lengths suit the kind.</summary>
    public void Apply(IpfixFieldKind kind, ReadOnlySpan<byte> value)
    {
        switch (kind)
        {
            case IpfixFieldKind.SourceIPv4Address:
            case IpfixFieldKind.SourceIPv6Address:
                SourceAddress = new IPAddress(value);
                break;
            case IpfixFieldKind.DestinationIPv4Address:
            case IpfixFieldKind.DestinationIPv6Address:
                DestinationAddress = new IPAddress(value);
                break;
            case IpfixFieldKind.InterfaceName:
                var end = value.IndexOf((byte)0);
                var name = end >= 0 ? value[..end] : value;
                if (!name.IsEmpty)
                {
                    InterfaceName = Encoding.UTF8.GetString(name);
                }

                break;
            default:
                Set(kind, ReadUnsigned(value));
                break;
        }
    }

    /// <summary>A big-endian unsigned integer of 1 to 8 bytes (reduced-size encoding, RFC 7011 §6.2).</summary>
    public static ulong ReadUnsigned(ReadOnlySpan<byte> value)
    {
        switch (value.Length)
        {
            case 1:
                return value[0];
            case 2:
                return BinaryPrimitives.ReadUInt16BigEndian(value);
            case 4:
                return BinaryPrimitives.ReadUInt32BigEndian(value);
            case 8:
                return BinaryPrimitives.ReadUInt64BigEndian(value);
            default:
                ulong result = 0;
                foreach (var b in value)
                {
                    result = (result << 8) | b;
                }

                return result;
        }
    }

    /// <summary>Whether a field of <paramref name="length"/> bytes can carry <paramref name="kind"/>; if not it is skipped.</summary>
    public static bool Fits(IpfixFieldKind kind, ushort length) => kind switch
    {
        IpfixFieldKind.Skip => true,
        IpfixFieldKind.SourceIPv4Address or IpfixFieldKind.DestinationIPv4Address => length == 4,
        IpfixFieldKind.SourceIPv6Address or IpfixFieldKind.DestinationIPv6Address => length == 16,
        IpfixFieldKind.SourceMacAddress or IpfixFieldKind.DestinationMacAddress
            or IpfixFieldKind.PostSourceMacAddress or IpfixFieldKind.PostDestinationMacAddress => length == 6,
        IpfixFieldKind.InterfaceName => true,
        _ => length is >= 1 and <= 8,
    };
}
