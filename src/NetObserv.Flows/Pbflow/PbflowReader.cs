using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using NetObserv.Flows.Validation;

namespace NetObserv.Flows.Pbflow;

/// <summary>
/// Maps a serialized <c>pbflow.Records</c> message to flows straight from its bytes, without the generated
/// message objects (about ten per record, which the collector would only map and drop). Each record's fields
/// are read into a <see cref="PbflowValues"/> and mapped by <see cref="PbflowMapper"/>, as a parsed record's
/// are. A record this reader leaves to the generated parser is parsed by <see cref="Record.Parser"/> and mapped
/// by <see cref="PbflowMapper.TryMap"/>: one with network events, xlat, IPsec, TLS, QUIC or a user-defined
/// network (the extra fields other than the DNS response code and the drop flags), a field it does not know,
/// a known field with another wire type, or text that is not valid UTF-8. A message that is not well formed
/// (or holds anything but entries) is not read at all (<see cref="TryRead"/> returns null), so its error
/// is the generated parser's. Tests compare both paths on random records and random bytes.
/// </summary>
public static class PbflowReader
{
    private enum Outcome
    {
        Mapped,
        Generated,
        Malformed,
    }

    /// <summary>One record of a message: its flow, or why it was refused.</summary>
    public readonly record struct Entry(FlowRecord? Flow, FlowRejection Rejection);

    /// <summary>
    /// The message's records in order, each mapped with <paramref name="timeReceivedSeconds"/> as
    /// <see cref="PbflowMapper.TryMap"/> maps it; null when the message is not a well-formed sequence of
    /// entries (the caller then parses it with the generated parser, which reports why).
    /// </summary>
    public static List<Entry>? TryRead(ReadOnlySpan<byte> message, int expectedRecords, long timeReceivedSeconds)
    {
        var entries = new List<Entry>(Math.Max(0, expectedRecords));
        var reader = new Reader(message);
        while (!reader.End)
        {
            if (!reader.TryVarint(out var tag) || tag != 0x0A || !reader.TryLengthDelimited(out var body))
            {
                return null;
            }

            var values = default(PbflowValues);
            values.Interface = string.Empty;
            values.DnsName = string.Empty;
            switch (ReadRecord(body, ref values))
            {
                case Outcome.Mapped:
                    var flow = PbflowMapper.TryMapValues(in values, timeReceivedSeconds, out var rejection);
                    if (flow is not null)
                    {
                        PbflowExtraFields.Map(in values, null, flow);
                    }

                    entries.Add(new Entry(flow, rejection));
                    break;
                case Outcome.Generated:
                    Record record;
                    try
                    {
                        record = Record.Parser.ParseFrom(body);
                    }
                    catch (Google.Protobuf.InvalidProtocolBufferException)
                    {
                        return null;
                    }

                    entries.Add(new Entry(PbflowMapper.TryMap(record, timeReceivedSeconds, out var refused), refused));
                    break;
                default:
                    return null;
            }
        }

        return entries;
    }

    private static Outcome ReadRecord(ReadOnlySpan<byte> data, ref PbflowValues v)
    {
        var r = new Reader(data);
        List<string>? dupNames = null;
        List<int>? dupDirections = null;
        while (!r.End)
        {
            if (!r.TryVarint(out var tag))
            {
                return Outcome.Malformed;
            }

            ulong n;
            ReadOnlySpan<byte> body;
            var outcome = Outcome.Mapped;
            switch (tag)
            {
                case 8: // eth_protocol
                    outcome = UInt32(ref r, out v.EthProtocol);
                    break;
                case 16: // direction
                    outcome = Varint(ref r, out n);
                    v.Direction = (int)n;
                    break;
                case 26: // time_flow_start
                    v.HasTimeFlowStart = true;
                    outcome = Time(ref r, ref v.TimeFlowStartSeconds, ref v.TimeFlowStartNanos);
                    break;
                case 34: // time_flow_end
                    v.HasTimeFlowEnd = true;
                    outcome = Time(ref r, ref v.TimeFlowEndSeconds, ref v.TimeFlowEndNanos);
                    break;
                case 42: // data_link
                    v.HasDataLink = true;
                    Span<ulong> macs = [v.SrcMac, v.DstMac];
                    outcome = Varints(ref r, macs);
                    (v.SrcMac, v.DstMac) = (macs[0], macs[1]);
                    break;
                case 50: // network
                    v.HasNetwork = true;
                    outcome = Network(ref r, ref v);
                    break;
                case 58: // transport
                    v.HasTransport = true;
                    Span<ulong> transport = [v.SrcPort, v.DstPort, v.Protocol];
                    outcome = Varints(ref r, transport);
                    (v.SrcPort, v.DstPort, v.Protocol) = ((uint)transport[0], (uint)transport[1], (uint)transport[2]);
                    break;
                case 64:
                    outcome = Varint(ref r, out v.Bytes);
                    break;
                case 72:
                    outcome = Varint(ref r, out v.Packets);
                    break;
                case 82: // interface
                    outcome = Text(ref r, ref v.Interface, intern: true);
                    break;
                case 88:
                    outcome = Varint(ref r, out n);
                    v.Duplicate = n != 0;
                    break;
                case 98: // agent_ip
                    outcome = !r.TryLengthDelimited(out body) ? Outcome.Malformed : Address(body, ref v.AgentIp);
                    break;
                case 104:
                    outcome = UInt32(ref r, out v.Flags);
                    break;
                case 112:
                    outcome = UInt32(ref r, out v.IcmpType);
                    break;
                case 120:
                    outcome = UInt32(ref r, out v.IcmpCode);
                    break;
                case 128:
                    outcome = Varint(ref r, out v.PktDropBytes);
                    break;
                case 136:
                    outcome = Varint(ref r, out v.PktDropPackets);
                    break;
                case 144:
                    outcome = UInt32(ref r, out v.PktDropLatestFlags);
                    break;
                case 152:
                    outcome = UInt32(ref r, out v.PktDropLatestState);
                    break;
                case 160:
                    outcome = UInt32(ref r, out v.PktDropLatestDropCause);
                    break;
                case 168:
                    outcome = UInt32(ref r, out v.DnsId);
                    break;
                case 176:
                    outcome = UInt32(ref r, out v.DnsFlags);
                    break;
                case 186: // dns_latency
                    v.HasDnsLatency = true;
                    outcome = Time(ref r, ref v.DnsLatencySeconds, ref v.DnsLatencyNanos);
                    break;
                case 194: // time_flow_rtt
                    v.HasTimeFlowRtt = true;
                    outcome = Time(ref r, ref v.TimeFlowRttSeconds, ref v.TimeFlowRttNanos);
                    break;
                case 200:
                    outcome = UInt32(ref r, out v.DnsErrno);
                    break;
                case 210: // dup_list: each occurrence is one more entry
                    dupNames ??= [];
                    dupDirections ??= [];
                    outcome = DupEntry(ref r, dupNames, dupDirections);
                    break;
                case 232:
                    outcome = UInt32(ref r, out v.Sampling);
                    break;
                case 258: // dns_name
                    outcome = Text(ref r, ref v.DnsName);
                    break;
                default:
                    // Network events, xlat, IPsec, TLS, QUIC, unknown fields, other wire types.
                    return Outcome.Generated;
            }

            if (outcome != Outcome.Mapped)
            {
                return outcome;
            }
        }

        if (dupNames is not null)
        {
            v.DupInterfaces = [.. dupNames];
            v.DupDirections = [.. dupDirections!];
        }

        return Outcome.Mapped;
    }

    private static Outcome Varint(ref Reader r, out ulong value) =>
        r.TryVarint(out value) ? Outcome.Mapped : Outcome.Malformed;

    /// <summary>A <c>uint32</c>: the varint's low 32 bits, as the generated parser reads it.</summary>
    private static Outcome UInt32(ref Reader r, out uint value)
    {
        var outcome = Varint(ref r, out var n);
        value = (uint)n;
        return outcome;
    }

    /// <summary>A Timestamp or a Duration: seconds (int64, field 1) and nanos (int32, field 2), merged.</summary>
    private static Outcome Time(ref Reader r, ref long seconds, ref int nanos)
    {
        Span<ulong> fields = [(ulong)seconds, (uint)nanos];
        var outcome = Varints(ref r, fields);
        seconds = (long)fields[0];
        nanos = (int)fields[1];
        return outcome;
    }

    /// <summary>
    /// A message whose fields are all varints numbered 1 to <paramref name="fields"/>' length (DataLink,
    /// Transport, Timestamp, Duration), merged into <paramref name="fields"/>: a later occurrence of a field wins.
    /// </summary>
    private static Outcome Varints(ref Reader outer, scoped Span<ulong> fields)
    {
        if (!outer.TryLengthDelimited(out var body))
        {
            return Outcome.Malformed;
        }

        var r = new Reader(body);
        while (!r.End)
        {
            if (!r.TryVarint(out var tag))
            {
                return Outcome.Malformed;
            }

            var number = tag >> 3;
            if ((tag & 7) != 0 || number == 0 || number > (ulong)fields.Length)
            {
                return Outcome.Generated;
            }

            if (!r.TryVarint(out fields[(int)number - 1]))
            {
                return Outcome.Malformed;
            }
        }

        return Outcome.Mapped;
    }

    private static Outcome Network(ref Reader outer, ref PbflowValues v)
    {
        if (!outer.TryLengthDelimited(out var body))
        {
            return Outcome.Malformed;
        }

        var r = new Reader(body);
        while (!r.End)
        {
            if (!r.TryVarint(out var tag))
            {
                return Outcome.Malformed;
            }

            var outcome = Outcome.Mapped;
            switch (tag)
            {
                case 10:
                    outcome = !r.TryLengthDelimited(out var src) ? Outcome.Malformed : Address(src, ref v.SrcAddr);
                    break;
                case 18:
                    outcome = !r.TryLengthDelimited(out var dst) ? Outcome.Malformed : Address(dst, ref v.DstAddr);
                    break;
                case 24:
                    outcome = Varint(ref r, out var dscp);
                    v.Dscp = (uint)dscp;
                    break;
                default:
                    return Outcome.Generated;
            }

            if (outcome != Outcome.Mapped)
            {
                return outcome;
            }
        }

        return Outcome.Mapped;
    }

    /// <summary>An IP message merged into <paramref name="address"/>: the last of its oneof members wins.</summary>
    private static Outcome Address(ReadOnlySpan<byte> body, ref PbflowAddress address)
    {
        var r = new Reader(body);
        while (!r.End)
        {
            if (!r.TryVarint(out var tag))
            {
                return Outcome.Malformed;
            }

            switch (tag)
            {
                case 13: // ipv4, fixed32
                    if (!r.TryFixed32(out var v4))
                    {
                        return Outcome.Malformed;
                    }

                    address.Family = 1;
                    address.IPv4 = v4;
                    break;
                case 18: // ipv6, bytes
                    if (!r.TryLengthDelimited(out var v6))
                    {
                        return Outcome.Malformed;
                    }

                    address.SetIPv6(v6);
                    break;
                default:
                    return Outcome.Generated;
            }
        }

        return Outcome.Mapped;
    }

    private static Outcome DupEntry(ref Reader outer, List<string> names, List<int> directions)
    {
        if (!outer.TryLengthDelimited(out var body))
        {
            return Outcome.Malformed;
        }

        var name = string.Empty;
        var direction = 0;
        var r = new Reader(body);
        while (!r.End)
        {
            if (!r.TryVarint(out var tag))
            {
                return Outcome.Malformed;
            }

            var outcome = Outcome.Mapped;
            switch (tag)
            {
                case 10:
                    outcome = Text(ref r, ref name, intern: true);
                    break;
                case 16:
                    outcome = Varint(ref r, out var n);
                    direction = (int)n;
                    break;
                case 26: // udn: an extra field, left to the generated path unless empty
                    if (!r.TryLengthDelimited(out var udn))
                    {
                        return Outcome.Malformed;
                    }

                    outcome = udn.IsEmpty ? Outcome.Mapped : Outcome.Generated;
                    break;
                default:
                    return Outcome.Generated;
            }

            if (outcome != Outcome.Mapped)
            {
                return outcome;
            }
        }

        names.Add(name);
        directions.Add(direction);
        return Outcome.Mapped;
    }

    private static Outcome Text(ref Reader r, ref string value, bool intern = false)
    {
        if (!r.TryLengthDelimited(out var bytes))
        {
            return Outcome.Malformed;
        }

        if (!Utf8.IsValid(bytes))
        {
            return Outcome.Generated;
        }

        value = bytes.IsEmpty ? string.Empty : intern ? Interned(bytes) : Encoding.UTF8.GetString(bytes);
        return Outcome.Mapped;
    }

    /// <summary>
    /// An interface name, the same string object as the last time these bytes were seen on this thread when
    /// they are still in its small table (a node has few interfaces): one string less per record, and the
    /// writer's key comparisons stop at the reference. 64 slots of names up to 64 bytes: bounded whatever is sent.
    /// </summary>
    private static string Interned(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxInternedBytes)
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var table = s_names ??= new (byte[], string)[InternSlots];
        var slot = (int)((uint)((bytes.Length * 31) + (bytes[0] * 7) + (bytes[^1] * 13) + bytes[bytes.Length / 2]) % InternSlots);
        var (known, text) = table[slot];
        if (known is not null && bytes.SequenceEqual(known))
        {
            return text;
        }

        text = Encoding.UTF8.GetString(bytes);
        table[slot] = (bytes.ToArray(), text);
        return text;
    }

    private const int InternSlots = 64;
    private const int MaxInternedBytes = 64;

    [ThreadStatic]
    private static (byte[] Bytes, string Text)[]? s_names;

    /// <summary>Protocol buffers' wire primitives over a span, each false when the bytes end too early.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool End => _position >= _data.Length;

        /// <summary>A varint of at most 10 bytes; bits past 64 are dropped, as the generated parser drops them.</summary>
        public bool TryVarint(out ulong value)
        {
            // Tags, lengths and most values fit in one byte.
            var position = _position;
            if ((uint)position < (uint)_data.Length && _data[position] < 0x80)
            {
                value = _data[position];
                _position = position + 1;
                return true;
            }

            return TryLongVarint(out value);
        }

        private bool TryLongVarint(out ulong value)
        {
            var data = _data;
            var position = _position;
            value = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                if ((uint)position >= (uint)data.Length)
                {
                    return false;
                }

                var b = data[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    _position = position;
                    return true;
                }
            }

            return false;
        }

        public bool TryFixed32(out uint value)
        {
            if (_data.Length - _position < 4)
            {
                value = 0;
                return false;
            }

            value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
            _position += 4;
            return true;
        }

        /// <summary>A length (a varint of at most 2^31 - 1, as the generated parser reads it) and its bytes.</summary>
        public bool TryLengthDelimited(out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (!TryVarint(out var length) || length > int.MaxValue || (ulong)(_data.Length - _position) < length)
            {
                return false;
            }

            bytes = _data.Slice(_position, (int)length);
            _position += (int)length;
            return true;
        }
    }
}
