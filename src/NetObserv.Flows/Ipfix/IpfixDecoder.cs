using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace NetObserv.Flows.Ipfix;

/// <summary>
/// Decodes IPFIX (RFC 7011, version 10) and NetFlow v9 (RFC 3954) packets into <see cref="FlowRecord"/>s.
/// Keeps templates, options templates, system init times and sampler options per (exporter address,
/// observation domain or source id). Bad input never throws: it is counted by reason in
/// <see cref="Counters"/> and reported in the result, and the rest of the packet and every other
/// exporter's state are left intact. Not thread-safe: one decode loop owns an instance.
/// </summary>
public sealed class IpfixDecoder
{
    private const int IpfixHeaderLength = 16;
    private const int NetflowV9HeaderLength = 20;
    private const int SetHeaderLength = 4;
    private const ushort IpfixTemplateSetId = 2;
    private const ushort IpfixOptionsTemplateSetId = 3;
    private const ushort V9TemplateSetId = 0;
    private const ushort V9OptionsTemplateSetId = 1;
    private const ushort MinDataSetId = 256;
    private const int MaxSamplersPerExporter = 1024;

    /// <summary>More fields than any real template has (they carry tens); refused as absurd to bound memory.</summary>
    public const int MaxFieldsPerTemplate = 1024;
    private const long NtpEpochOffsetSeconds = 2_208_988_800;
    private const long SysUpTimeSlackMs = 3_600_000;

    private static readonly string?[] s_interfaceIndexNames = new string?[1024];

    private readonly IpfixDecoderOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly IpfixTemplateCache _cache;

    public IpfixDecoder(IpfixDecoderOptions? options = null, TimeProvider? timeProvider = null,
        IpfixDecodeCounters? counters = null)
    {
        _options = options ?? new IpfixDecoderOptions();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _cache = new IpfixTemplateCache(_options);
        Counters = counters ?? new IpfixDecodeCounters();
    }

    /// <summary>Packets, records and drops by reason since this decoder was made.</summary>
    public IpfixDecodeCounters Counters { get; }

    /// <summary>(exporter, domain) pairs currently known.</summary>
    public int ExporterCount => _cache.Count;

    /// <summary>
    /// Fuzzing entry point: decodes <paramref name="input"/> twice as packets from one fresh exporter
    /// (so templates in the input apply to its data sets). Must never throw; returns the records made.
    /// </summary>
    public static int Fuzz(ReadOnlySpan<byte> input)
    {
        var decoder = new IpfixDecoder();
        var output = new List<FlowRecord>();
        decoder.Decode(input, IPAddress.Loopback, output);
        decoder.Decode(input, IPAddress.Loopback, output);
        return output.Count;
    }

    /// <summary>
    /// Decodes one packet received from <paramref name="exporter"/>, appending its flow records to
    /// <paramref name="output"/>.
    /// </summary>
    public IpfixDecodeResult Decode(ReadOnlySpan<byte> packet, IPAddress exporter, List<FlowRecord> output)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(output);
        Counters.AddPacket();
        if (exporter.IsIPv4MappedToIPv6)
        {
            exporter = exporter.MapToIPv4();
        }

        var now = _timeProvider.GetUtcNow();
        var context = new PacketContext
        {
            NowMs = now.ToUnixTimeMilliseconds(),
            ReceivedSeconds = now.ToUnixTimeSeconds(),
        };
        var before = output.Count;

        if (packet.Length < 4)
        {
            Fail(ref context, IpfixDropReason.TruncatedHeader, 0);
            return Result(ref context, output, before);
        }

        context.Version = BinaryPrimitives.ReadUInt16BigEndian(packet);
        switch (context.Version)
        {
            case 10:
                DecodeIpfix(packet, exporter, ref context, output);
                break;
            case 9:
                DecodeNetflowV9(packet, exporter, ref context, output);
                break;
            default:
                Fail(ref context, IpfixDropReason.UnknownVersion, 0);
                context.Version = 0;
                break;
        }

        return Result(ref context, output, before);
    }

    private IpfixDecodeResult Result(ref PacketContext context, List<FlowRecord> output, int before)
    {
        var records = output.Count - before;
        Counters.AddRecords(records);
        return new IpfixDecodeResult(records, context.Reason, context.ReasonOffset, context.Version);
    }

    private void Fail(ref PacketContext context, IpfixDropReason reason, int offset)
    {
        Counters.AddDrop(reason);
        if (context.Reason == IpfixDropReason.None)
        {
            context.Reason = reason;
            context.ReasonOffset = offset;
        }
    }

    private void DecodeIpfix(ReadOnlySpan<byte> packet, IPAddress exporter, ref PacketContext context,
        List<FlowRecord> output)
    {
        if (packet.Length < IpfixHeaderLength)
        {
            Fail(ref context, IpfixDropReason.TruncatedHeader, 0);
            return;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (length < IpfixHeaderLength || length > packet.Length)
        {
            Fail(ref context, IpfixDropReason.BadMessageLength, 2);
            return;
        }

        context.ExportTimeMs = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) * 1000L;
        var domain = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        context.Session = _cache.GetOrAdd(exporter, domain, 10, context.NowMs);
        DecodeSets(packet[..length], IpfixHeaderLength, ref context, output);
    }

    private void DecodeNetflowV9(ReadOnlySpan<byte> packet, IPAddress exporter, ref PacketContext context,
        List<FlowRecord> output)
    {
        if (packet.Length < NetflowV9HeaderLength)
        {
            Fail(ref context, IpfixDropReason.TruncatedHeader, 0);
            return;
        }

        var uptimeMs = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        var unixSeconds = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        context.ExportTimeMs = unixSeconds * 1000L;
        context.HeaderSystemInitMs = context.ExportTimeMs - uptimeMs;
        var sourceId = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        context.Session = _cache.GetOrAdd(exporter, sourceId, 9, context.NowMs);
        DecodeSets(packet, NetflowV9HeaderLength, ref context, output);
    }

    private void DecodeSets(ReadOnlySpan<byte> message, int offset, ref PacketContext context, List<FlowRecord> output)
    {
        var ipfix = context.Version == 10;
        while (offset < message.Length)
        {
            if (message.Length - offset < SetHeaderLength)
            {
                // NetFlow v9 exporters may pad the packet; IPFIX messages end on a set boundary.
                if (ipfix)
                {
                    Fail(ref context, IpfixDropReason.BadSetLength, offset);
                }

                return;
            }

            var setId = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            int setLength = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
            if (setLength < SetHeaderLength || setLength > message.Length - offset)
            {
                Fail(ref context, IpfixDropReason.BadSetLength, offset);
                return;
            }

            var body = message.Slice(offset + SetHeaderLength, setLength - SetHeaderLength);
            var bodyOffset = offset + SetHeaderLength;
            if (setId >= MinDataSetId)
            {
                DecodeDataSet(body, setId, bodyOffset, ref context, output);
            }
            else if (ipfix && setId == IpfixTemplateSetId)
            {
                DecodeIpfixTemplates(body, bodyOffset, options: false, ref context);
            }
            else if (ipfix && setId == IpfixOptionsTemplateSetId)
            {
                DecodeIpfixTemplates(body, bodyOffset, options: true, ref context);
            }
            else if (!ipfix && setId == V9TemplateSetId)
            {
                DecodeV9Templates(body, bodyOffset, ref context);
            }
            else if (!ipfix && setId == V9OptionsTemplateSetId)
            {
                DecodeV9OptionsTemplates(body, bodyOffset, ref context);
            }

            // Other set ids are reserved: skipped by their length.
            offset += setLength;
        }
    }

    private void DecodeIpfixTemplates(ReadOnlySpan<byte> body, int bodyOffset, bool options, ref PacketContext context)
    {
        var session = context.Session!;
        var setId = options ? IpfixOptionsTemplateSetId : IpfixTemplateSetId;
        var pos = 0;

        // Anything shorter than a template record header is padding.
        while (body.Length - pos >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(body[pos..]);
            int fieldCount = BinaryPrimitives.ReadUInt16BigEndian(body[(pos + 2)..]);
            if (fieldCount == 0)
            {
                // Withdrawal (RFC 7011 §8.1): one template, or all of this set's kind when id == set id.
                if (id >= MinDataSetId || id == setId)
                {
                    IpfixTemplateCache.Withdraw(session, id, options);
                    pos += 4;
                    continue;
                }

                if (id == 0 && body[pos..].IndexOfAnyExcept((byte)0) < 0)
                {
                    return; // zero padding
                }

                Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                return;
            }

            if (id < MinDataSetId)
            {
                Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                return;
            }

            var p = pos + 4;
            var scopeCount = 0;
            if (options)
            {
                if (body.Length - p < 2)
                {
                    Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                    return;
                }

                scopeCount = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
                p += 2;
                if (scopeCount == 0 || scopeCount > fieldCount)
                {
                    Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                    return;
                }
            }

            // Every field specifier takes at least 4 bytes: a larger count cannot be true.
            if (fieldCount > (body.Length - p) / 4 || fieldCount > MaxFieldsPerTemplate)
            {
                Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                return;
            }

            var fields = new IpfixTemplateField[fieldCount];
            for (var i = 0; i < fieldCount; i++)
            {
                if (body.Length - p < 4)
                {
                    Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                    return;
                }

                var elementId = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
                var length = BinaryPrimitives.ReadUInt16BigEndian(body[(p + 2)..]);
                p += 4;
                uint enterprise = 0;
                if ((elementId & 0x8000) != 0)
                {
                    if (body.Length - p < 4)
                    {
                        Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                        return;
                    }

                    enterprise = BinaryPrimitives.ReadUInt32BigEndian(body[p..]);
                    elementId &= 0x7FFF;
                    p += 4;
                }

                fields[i] = MakeField(elementId, length, enterprise, scope: false);
            }

            if (!StoreTemplate(new IpfixTemplate(id, fields, scopeCount, options), bodyOffset + pos, ref context))
            {
                return;
            }

            pos = p;
        }
    }

    private void DecodeV9Templates(ReadOnlySpan<byte> body, int bodyOffset, ref PacketContext context)
    {
        var pos = 0;
        while (body.Length - pos >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(body[pos..]);
            int fieldCount = BinaryPrimitives.ReadUInt16BigEndian(body[(pos + 2)..]);
            if (id == 0 && fieldCount == 0 && body[pos..].IndexOfAnyExcept((byte)0) < 0)
            {
                return; // zero padding
            }

            if (id < MinDataSetId || fieldCount == 0 || fieldCount > (body.Length - pos - 4) / 4 || fieldCount > MaxFieldsPerTemplate)
            {
                Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                return;
            }

            var p = pos + 4;
            var fields = new IpfixTemplateField[fieldCount];
            for (var i = 0; i < fieldCount; i++)
            {
                var type = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
                var length = BinaryPrimitives.ReadUInt16BigEndian(body[(p + 2)..]);
                fields[i] = MakeField(type, length, 0, scope: false);
                p += 4;
            }

            if (!StoreTemplate(new IpfixTemplate(id, fields, 0, isOptions: false), bodyOffset + pos, ref context))
            {
                return;
            }

            pos = p;
        }
    }

    private void DecodeV9OptionsTemplates(ReadOnlySpan<byte> body, int bodyOffset, ref PacketContext context)
    {
        var pos = 0;
        while (body.Length - pos >= 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(body[pos..]);
            int scopeLength = BinaryPrimitives.ReadUInt16BigEndian(body[(pos + 2)..]);
            int optionLength = BinaryPrimitives.ReadUInt16BigEndian(body[(pos + 4)..]);
            if (id == 0 && body[pos..].IndexOfAnyExcept((byte)0) < 0)
            {
                return; // zero padding
            }

            if (id < MinDataSetId || scopeLength % 4 != 0 || optionLength % 4 != 0 || optionLength == 0
                || scopeLength + optionLength > body.Length - pos - 6)
            {
                Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                return;
            }

            var scopeCount = scopeLength / 4;
            var fieldCount = scopeCount + (optionLength / 4);
            if (fieldCount > MaxFieldsPerTemplate)
            {
                Fail(ref context, IpfixDropReason.BadTemplate, bodyOffset + pos);
                return;
            }

            var fields = new IpfixTemplateField[fieldCount];
            var p = pos + 6;
            for (var i = 0; i < fieldCount; i++)
            {
                var type = BinaryPrimitives.ReadUInt16BigEndian(body[p..]);
                var length = BinaryPrimitives.ReadUInt16BigEndian(body[(p + 2)..]);

                // v9 scope types (1 system, 2 interface, 3 line card, 4 cache, 5 template) are not IEs.
                fields[i] = MakeField(type, length, 0, scope: i < scopeCount);
                p += 4;
            }

            if (!StoreTemplate(new IpfixTemplate(id, fields, scopeCount, isOptions: true), bodyOffset + pos, ref context))
            {
                return;
            }

            pos = p;
        }
    }

    private static IpfixTemplateField MakeField(ushort elementId, ushort length, uint enterprise, bool scope)
    {
        var kind = enterprise != 0 || scope ? IpfixFieldKind.Skip : IpfixInformationElements.KindOf(elementId);
        if (length == IpfixTemplateField.VariableLength ? kind != IpfixFieldKind.InterfaceName : !IpfixRecordValues.Fits(kind, length))
        {
            kind = IpfixFieldKind.Skip;
        }

        return new IpfixTemplateField(elementId, length, enterprise, kind);
    }

    private bool StoreTemplate(IpfixTemplate template, int offset, ref PacketContext context)
    {
        if (template.MinRecordLength == 0)
        {
            // Zero-length records: a data set using it could never be walked.
            Fail(ref context, IpfixDropReason.BadTemplate, offset);
            return false;
        }

        if (!_cache.Store(context.Session!, template, context.NowMs))
        {
            Fail(ref context, IpfixDropReason.TemplateLimit, offset);
            return false;
        }

        Counters.AddTemplate();
        return true;
    }

    private void DecodeDataSet(ReadOnlySpan<byte> body, ushort setId, int bodyOffset, ref PacketContext context,
        List<FlowRecord> output)
    {
        var template = IpfixTemplateCache.Find(context.Session!, setId, context.NowMs);
        if (template is null)
        {
            Fail(ref context, IpfixDropReason.MissingTemplate, bodyOffset - SetHeaderLength);
            return;
        }

        var fields = template.Fields;
        var min = template.MinRecordLength;
        var pos = 0;

        // What is left once no record fits is padding.
        while (body.Length - pos >= min)
        {
            var recordStart = pos;
            var values = default(IpfixRecordValues);
            for (var i = 0; i < fields.Length; i++)
            {
                var field = fields[i];
                int length = field.Length;
                if (field.IsVariable)
                {
                    if (pos >= body.Length)
                    {
                        Fail(ref context, IpfixDropReason.BadRecord, bodyOffset + pos);
                        return;
                    }

                    length = body[pos++];
                    if (length == 255)
                    {
                        if (body.Length - pos < 2)
                        {
                            Fail(ref context, IpfixDropReason.BadRecord, bodyOffset + pos);
                            return;
                        }

                        length = BinaryPrimitives.ReadUInt16BigEndian(body[pos..]);
                        pos += 2;
                    }
                }

                if (body.Length - pos < length)
                {
                    Fail(ref context, IpfixDropReason.BadRecord, bodyOffset + pos);
                    return;
                }

                if (field.Kind != IpfixFieldKind.Skip)
                {
                    values.Apply(field.Kind, body.Slice(pos, length));
                }

                pos += length;
            }

            if (template.IsOptions)
            {
                ApplyOptions(ref values, context.Session!);
            }
            else if (Build(ref values, ref context) is { } record)
            {
                output.Add(record);
            }
            else
            {
                // The rest of the set is still read: one record's counter does not spoil its neighbours.
                Fail(ref context, IpfixDropReason.CounterOutOfRange, bodyOffset + recordStart);
            }
        }
    }

    private void ApplyOptions(ref IpfixRecordValues values, IpfixSession session)
    {
        Counters.AddOptionsRecord();
        if (values.Has(IpfixFieldKind.SystemInitTimeMilliseconds))
        {
            session.SystemInitTimeMs = values.GetLong(IpfixFieldKind.SystemInitTimeMilliseconds);
        }

        var sampling = RecordSampling(ref values);
        if (sampling <= 0)
        {
            return;
        }

        session.Sampling = sampling;
        long samplerId = values.Has(IpfixFieldKind.SamplerId) ? values.GetLong(IpfixFieldKind.SamplerId)
            : values.Has(IpfixFieldKind.SelectorId) ? values.GetLong(IpfixFieldKind.SelectorId)
            : -1;
        if (samplerId >= 0 && (session.Samplers.Count < MaxSamplersPerExporter || session.Samplers.ContainsKey(samplerId)))
        {
            session.Samplers[samplerId] = sampling;
        }
    }

    /// <summary>Sampling carried by the record itself (1 in N), 0 when none.</summary>
    private static int RecordSampling(ref IpfixRecordValues values)
    {
        if (values.Has(IpfixFieldKind.SamplingPacketInterval) && values.Get(IpfixFieldKind.SamplingPacketInterval) > 0)
        {
            // Select `interval` packets, then skip `space`: 1 in (interval + space) / interval.
            var interval = values.Get(IpfixFieldKind.SamplingPacketInterval);
            var space = values.Has(IpfixFieldKind.SamplingPacketSpace) ? values.Get(IpfixFieldKind.SamplingPacketSpace) : 0;
            return (int)Math.Min((interval + space) / interval, int.MaxValue);
        }

        if (values.Has(IpfixFieldKind.SamplingInterval) && values.Get(IpfixFieldKind.SamplingInterval) > 0)
        {
            return values.GetInt(IpfixFieldKind.SamplingInterval);
        }

        if (values.Has(IpfixFieldKind.SamplerRandomInterval) && values.Get(IpfixFieldKind.SamplerRandomInterval) > 0)
        {
            return values.GetInt(IpfixFieldKind.SamplerRandomInterval);
        }

        return 0;
    }

    /// <summary>The flow of a data record; null when its octet or packet count is past <see cref="long.MaxValue"/>.</summary>
    private FlowRecord? Build(ref IpfixRecordValues v, ref PacketContext context)
    {
        if (PastInt64(ref v, IpfixFieldKind.OctetDeltaCount) || PastInt64(ref v, IpfixFieldKind.OctetTotalCount)
            || PastInt64(ref v, IpfixFieldKind.PacketDeltaCount) || PastInt64(ref v, IpfixFieldKind.PacketTotalCount))
        {
            return null;
        }

        var session = context.Session!;
        var record = new FlowRecord
        {
            TimeReceived = context.ReceivedSeconds,
            AgentIP = session.Exporter,
            Bytes = v.Has(IpfixFieldKind.OctetDeltaCount) ? v.GetLong(IpfixFieldKind.OctetDeltaCount)
                : v.GetLong(IpfixFieldKind.OctetTotalCount),
            Packets = v.Has(IpfixFieldKind.PacketDeltaCount) ? v.GetLong(IpfixFieldKind.PacketDeltaCount)
                : v.GetLong(IpfixFieldKind.PacketTotalCount),
            SrcAddr = v.SourceAddress,
            DstAddr = v.DestinationAddress,
        };

        if (v.Has(IpfixFieldKind.ProtocolIdentifier))
        {
            record.Proto = v.GetInt(IpfixFieldKind.ProtocolIdentifier);
        }

        if (v.Has(IpfixFieldKind.IpClassOfService))
        {
            record.Dscp = (int)((v.Get(IpfixFieldKind.IpClassOfService) >> 2) & 0x3F);
        }

        if (v.Has(IpfixFieldKind.TcpControlBits))
        {
            // The eight classic flag bits; higher bits (NS, reserved) have another meaning in the agent's field.
            record.Flags = (int)(v.Get(IpfixFieldKind.TcpControlBits) & 0xFF);
        }

        if (v.Has(IpfixFieldKind.SourceTransportPort))
        {
            record.SrcPort = v.GetInt(IpfixFieldKind.SourceTransportPort);
        }

        if (v.Has(IpfixFieldKind.DestinationTransportPort))
        {
            record.DstPort = v.GetInt(IpfixFieldKind.DestinationTransportPort);
        }

        if (v.Has(IpfixFieldKind.EthernetType))
        {
            record.Etype = v.GetInt(IpfixFieldKind.EthernetType);
        }
        else if ((v.SourceAddress ?? v.DestinationAddress) is { } address)
        {
            record.Etype = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 0x86DD : 0x0800;
        }

        record.SrcMac = v.Has(IpfixFieldKind.SourceMacAddress) ? v.Get(IpfixFieldKind.SourceMacAddress)
            : v.Has(IpfixFieldKind.PostSourceMacAddress) ? v.Get(IpfixFieldKind.PostSourceMacAddress) : null;
        record.DstMac = v.Has(IpfixFieldKind.DestinationMacAddress) ? v.Get(IpfixFieldKind.DestinationMacAddress)
            : v.Has(IpfixFieldKind.PostDestinationMacAddress) ? v.Get(IpfixFieldKind.PostDestinationMacAddress) : null;

        SetIcmp(ref v, record);

        if (v.Has(IpfixFieldKind.FlowDirection))
        {
            record.FlowDirection = v.GetInt(IpfixFieldKind.FlowDirection);
        }

        SetInterfaces(ref v, record);
        SetTimes(ref v, ref context, record);

        var sampling = RecordSampling(ref v);
        if (sampling == 0)
        {
            long samplerId = v.Has(IpfixFieldKind.SamplerId) ? v.GetLong(IpfixFieldKind.SamplerId)
                : v.Has(IpfixFieldKind.SelectorId) ? v.GetLong(IpfixFieldKind.SelectorId)
                : -1;
            if (samplerId < 0 || !session.Samplers.TryGetValue(samplerId, out sampling))
            {
                sampling = session.Sampling > 0 ? session.Sampling : _options.DefaultSampling;
            }
        }

        if (sampling > 0)
        {
            record.Sampling = sampling;
        }

        return record;
    }

    private static bool PastInt64(ref IpfixRecordValues v, IpfixFieldKind kind) =>
        v.Has(kind) && v.Get(kind) > long.MaxValue;

    private static void SetIcmp(ref IpfixRecordValues v, FlowRecord record)
    {
        // Exporters often carry ICMP fields in every record; they mean something for ICMP flows only.
        if (record.Proto is not (null or 1 or 58))
        {
            return;
        }

        if (v.Has(IpfixFieldKind.IcmpTypeIPv4) || v.Has(IpfixFieldKind.IcmpCodeIPv4))
        {
            record.IcmpType = v.GetInt(IpfixFieldKind.IcmpTypeIPv4);
            record.IcmpCode = v.GetInt(IpfixFieldKind.IcmpCodeIPv4);
        }
        else if (v.Has(IpfixFieldKind.IcmpTypeIPv6) || v.Has(IpfixFieldKind.IcmpCodeIPv6))
        {
            record.IcmpType = v.GetInt(IpfixFieldKind.IcmpTypeIPv6);
            record.IcmpCode = v.GetInt(IpfixFieldKind.IcmpCodeIPv6);
        }
        else if (v.Has(IpfixFieldKind.IcmpTypeCodeIPv4))
        {
            var typeCode = v.GetInt(IpfixFieldKind.IcmpTypeCodeIPv4);
            record.IcmpType = (typeCode >> 8) & 0xFF;
            record.IcmpCode = typeCode & 0xFF;
        }
        else if (v.Has(IpfixFieldKind.IcmpTypeCodeIPv6))
        {
            var typeCode = v.GetInt(IpfixFieldKind.IcmpTypeCodeIPv6);
            record.IcmpType = (typeCode >> 8) & 0xFF;
            record.IcmpCode = typeCode & 0xFF;
        }
    }

    private static void SetInterfaces(ref IpfixRecordValues v, FlowRecord record)
    {
        if (v.InterfaceName is { } name)
        {
            record.Interfaces = [name];
            record.IfDirections = [record.FlowDirection is 1 ? 1 : 0];
            return;
        }

        var ingress = v.Has(IpfixFieldKind.IngressInterface);
        var egress = v.Has(IpfixFieldKind.EgressInterface);
        if (ingress && egress)
        {
            record.Interfaces = [InterfaceIndexName(v.Get(IpfixFieldKind.IngressInterface)),
                InterfaceIndexName(v.Get(IpfixFieldKind.EgressInterface))];
            record.IfDirections = [0, 1];
        }
        else if (ingress)
        {
            record.Interfaces = [InterfaceIndexName(v.Get(IpfixFieldKind.IngressInterface))];
            record.IfDirections = [0];
        }
        else if (egress)
        {
            record.Interfaces = [InterfaceIndexName(v.Get(IpfixFieldKind.EgressInterface))];
            record.IfDirections = [1];
        }
    }

    /// <summary>An interface index as its decimal name; small ones are cached.</summary>
    private static string InterfaceIndexName(ulong index)
    {
        if (index < (ulong)s_interfaceIndexNames.Length)
        {
            return s_interfaceIndexNames[index] ??= index.ToString(CultureInfo.InvariantCulture);
        }

        return index.ToString(CultureInfo.InvariantCulture);
    }

    private static void SetTimes(ref IpfixRecordValues v, ref PacketContext context, FlowRecord record)
    {
        long systemInit = v.Has(IpfixFieldKind.SystemInitTimeMilliseconds) ? v.GetLong(IpfixFieldKind.SystemInitTimeMilliseconds)
            : context.HeaderSystemInitMs > 0 ? context.HeaderSystemInitMs
            : context.Session!.SystemInitTimeMs;
        var start = Time(ref v, systemInit, context.ExportTimeMs, IpfixFieldKind.FlowStartMilliseconds, IpfixFieldKind.FlowStartSeconds,
            IpfixFieldKind.FlowStartMicroseconds, IpfixFieldKind.FlowStartNanoseconds, IpfixFieldKind.FlowStartSysUpTime);
        var end = Time(ref v, systemInit, context.ExportTimeMs, IpfixFieldKind.FlowEndMilliseconds, IpfixFieldKind.FlowEndSeconds,
            IpfixFieldKind.FlowEndMicroseconds, IpfixFieldKind.FlowEndNanoseconds, IpfixFieldKind.FlowEndSysUpTime);
        if (start <= 0 && end <= 0)
        {
            start = end = context.ExportTimeMs;
        }
        else if (start <= 0)
        {
            start = end;
        }
        else if (end <= 0)
        {
            end = start;
        }

        record.TimeFlowStartMs = start;
        record.TimeFlowEndMs = end;
    }

    /// <summary>A flow time in Unix ms from whichever encoding the record carries; 0 when none can be resolved.</summary>
    private static long Time(ref IpfixRecordValues v, long systemInit, long exportTimeMs, IpfixFieldKind milliseconds, IpfixFieldKind seconds,
        IpfixFieldKind microseconds, IpfixFieldKind nanoseconds, IpfixFieldKind sysUpTime)
    {
        if (v.Has(milliseconds))
        {
            return v.GetLong(milliseconds);
        }

        if (v.Has(seconds))
        {
            // Saturates: a time past the millisecond range is refused later as too far in the future.
            return Math.Min(v.GetLong(seconds), long.MaxValue / 1000) * 1000;
        }

        if (v.Has(microseconds))
        {
            return NtpToUnixMs(v.Get(microseconds));
        }

        if (v.Has(nanoseconds))
        {
            return NtpToUnixMs(v.Get(nanoseconds));
        }

        if (v.Has(sysUpTime) && systemInit > 0)
        {
            // A 32-bit millisecond offset. One that lands well after the export time wrapped: the flow
            // began before the uptime counter last wrapped (v9 routers up > 49.7 days) or before the
            // init time (softflowd replaying an older capture).
            var upTime = v.GetLong(sysUpTime);
            var time = upTime > long.MaxValue - systemInit ? long.MaxValue : systemInit + upTime;
            if (exportTimeMs > 0 && time > exportTimeMs + SysUpTimeSlackMs)
            {
                time -= 1L << 32;
            }

            return time;
        }

        return 0;
    }

    /// <summary>dateTimeMicroseconds / dateTimeNanoseconds: NTP format, seconds since 1900 and a 2^-32 fraction.</summary>
    private static long NtpToUnixMs(ulong ntp)
    {
        var seconds = (long)(ntp >> 32);
        if (seconds < NtpEpochOffsetSeconds)
        {
            return 0;
        }

        var fraction = ntp & 0xFFFF_FFFF;
        return ((seconds - NtpEpochOffsetSeconds) * 1000) + (long)((fraction * 1000) >> 32);
    }

    private struct PacketContext
    {
        public IpfixSession? Session;
        public int Version;
        public long NowMs;
        public long ReceivedSeconds;
        public long ExportTimeMs;
        public long HeaderSystemInitMs;
        public IpfixDropReason Reason;
        public int ReasonOffset;
    }
}
