using System.Net;
using System.Text;
using NetObserv.Flows;

namespace NetObserv.Storage.Spill;

/// <summary>
/// The payload of a spill file: the records one after another in a compact binary form, every field the
/// writer stores in <c>flows</c>. Little-endian integers; a nullable value is a presence byte (0 absent,
/// 1 present) then the value; text is a 7-bit-encoded UTF-8 byte length then the bytes; an address is
/// its length (0 absent, 4 or 16) then its bytes. Text that is not valid UTF-16 (an unpaired surrogate)
/// is stored with U+FFFD in its place, as the database would store it. Version 2 adds, after the
/// fields of version 1, the source and destination subnet labels and the extra fields' JSON text.
/// Decoded records share the instances of the text and host addresses they repeat (<see cref="DecodedValues"/>).
/// </summary>
internal static class SpillCodec
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Appends records [start, start + count) to <paramref name="stream"/>.</summary>
    public static void Encode(Stream stream, List<FlowRecord> records, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new SpillBuffer(0, count);
        try
        {
            Encode(ref buffer, records, start, count);
            stream.Write(buffer.Array, 0, buffer.Length);
        }
        finally
        {
            buffer.Return();
        }
    }

    /// <summary>Appends records [start, start + count) to <paramref name="buffer"/>.</summary>
    public static void Encode(ref SpillBuffer buffer, List<FlowRecord> records, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(records);
        for (var i = start; i < start + count; i++)
        {
            Write(ref buffer, records[i]);
        }
    }

    /// <summary>Reads <paramref name="count"/> records into <paramref name="into"/>; throws <see cref="InvalidDataException"/> on a malformed payload.</summary>
    public static void Decode(byte[] payload, int offset, int count, List<FlowRecord> into,
        int version = SpillJournal.FormatVersion)
    {
        using var stream = new MemoryStream(payload, offset, payload.Length - offset, writable: false);
        using var r = new BinaryReader(stream, s_utf8);
        try
        {
            for (var i = 0; i < count; i++)
            {
                into.Add(Read(r, version));
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("spill payload ends inside a record", e);
        }

        if (stream.Position != stream.Length)
        {
            throw new InvalidDataException("spill payload has bytes after its last record");
        }
    }

    private static void Write(ref SpillBuffer w, FlowRecord f)
    {
        w.Int64(f.TimeFlowStartMs);
        w.Int64(f.TimeFlowEndMs);
        w.Int64(f.TimeReceived);
        w.Utf8(f.Tenant);
        Address(ref w, f.SrcAddr);
        Address(ref w, f.DstAddr);
        ULong(ref w, f.SrcMac);
        ULong(ref w, f.DstMac);
        Int(ref w, f.SrcPort);
        Int(ref w, f.DstPort);
        Int(ref w, f.Proto);
        Int(ref w, f.Etype);
        Int(ref w, f.Flags);
        Int(ref w, f.Dscp);
        Int(ref w, f.IcmpType);
        Int(ref w, f.IcmpCode);
        w.Int64(f.Bytes);
        w.Int64(f.Packets);
        Int(ref w, f.Sampling);
        Int(ref w, f.FlowDirection);
        if (f.Interfaces is { } interfaces)
        {
            w.Byte(1);
            w.Count(interfaces.Length);
            foreach (var name in interfaces)
            {
                Text(ref w, name);
            }
        }
        else
        {
            w.Byte(0);
        }

        if (f.IfDirections is { } directions)
        {
            w.Byte(1);
            w.Count(directions.Length);
            foreach (var direction in directions)
            {
                w.Int32(direction);
            }
        }
        else
        {
            w.Byte(0);
        }

        w.Byte((byte)(f.Duplicate switch { null => 0, false => 1, true => 2 }));
        Address(ref w, f.AgentIP);
        Int(ref w, f.DnsId);
        Int(ref w, f.DnsFlags);
        Long(ref w, f.DnsLatencyMs);
        Int(ref w, f.DnsErrno);
        Text(ref w, f.DnsName);
        Long(ref w, f.TimeFlowRttNs);
        Long(ref w, f.PktDropBytes);
        Long(ref w, f.PktDropPackets);
        Text(ref w, f.PktDropLatestState);
        Text(ref w, f.PktDropLatestDropCause);
        Kubernetes(ref w, f.Src);
        Kubernetes(ref w, f.Dst);
        Text(ref w, f.K8SFlowLayer);
        Text(ref w, f.K8SClusterName);
        Text(ref w, f.RecordType);
        Text(ref w, f.HashId);
        Text(ref w, f.Src.SubnetLabel);
        Text(ref w, f.Dst.SubnetLabel);
        Text(ref w, f.ExtraFields);
    }

    private static FlowRecord Read(BinaryReader r, int version)
    {
        var f = new FlowRecord
        {
            TimeFlowStartMs = r.ReadInt64(),
            TimeFlowEndMs = r.ReadInt64(),
            TimeReceived = r.ReadInt64(),
            Tenant = DecodedValues.Text(r.ReadString())!,
            SrcAddr = Address(r),
            DstAddr = Address(r),
            SrcMac = ULong(r),
            DstMac = ULong(r),
            SrcPort = Int(r),
            DstPort = Int(r),
            Proto = Int(r),
            Etype = Int(r),
            Flags = Int(r),
            Dscp = Int(r),
            IcmpType = Int(r),
            IcmpCode = Int(r),
            Bytes = r.ReadInt64(),
            Packets = r.ReadInt64(),
            Sampling = Int(r),
            FlowDirection = Int(r),
        };
        if (Present(r))
        {
            var interfaces = new string[Length(r)];
            for (var i = 0; i < interfaces.Length; i++)
            {
                interfaces[i] = Text(r)!;
            }

            f.Interfaces = interfaces;
        }

        if (Present(r))
        {
            var directions = new int[Length(r)];
            for (var i = 0; i < directions.Length; i++)
            {
                directions[i] = r.ReadInt32();
            }

            f.IfDirections = directions;
        }

        f.Duplicate = r.ReadByte() switch
        {
            0 => null,
            1 => false,
            2 => true,
            var b => throw new InvalidDataException($"bad boolean {b}"),
        };
        f.AgentIP = Address(r);
        f.DnsId = Int(r);
        f.DnsFlags = Int(r);
        f.DnsLatencyMs = Long(r);
        f.DnsErrno = Int(r);
        f.DnsName = Text(r);
        f.TimeFlowRttNs = Long(r);
        f.PktDropBytes = Long(r);
        f.PktDropPackets = Long(r);
        f.PktDropLatestState = Text(r);
        f.PktDropLatestDropCause = Text(r);
        f.Src = Kubernetes(r);
        f.Dst = Kubernetes(r);
        f.K8SFlowLayer = Shared(r);
        f.K8SClusterName = Shared(r);
        f.RecordType = Shared(r);
        f.HashId = Text(r);
        if (version >= 2)
        {
            f.Src.SubnetLabel = Shared(r);
            f.Dst.SubnetLabel = Shared(r);
            f.ExtraFields = Text(r);
        }

        return f;
    }

    private static void Kubernetes(ref SpillBuffer w, KubernetesMetadata k)
    {
        Text(ref w, k.Name);
        Text(ref w, k.Type);
        Text(ref w, k.Namespace);
        Text(ref w, k.OwnerName);
        Text(ref w, k.OwnerType);
        Address(ref w, k.HostIP);
        Text(ref w, k.HostName);
        Text(ref w, k.Zone);
    }

    private static KubernetesMetadata Kubernetes(BinaryReader r) => new()
    {
        Name = Shared(r),
        Type = Shared(r),
        Namespace = Shared(r),
        OwnerName = Shared(r),
        OwnerType = Shared(r),
        HostIP = DecodedValues.Address(Address(r)),
        HostName = Shared(r),
        Zone = Shared(r),
    };

    private static bool Present(BinaryReader r) => r.ReadByte() switch
    {
        0 => false,
        1 => true,
        var b => throw new InvalidDataException($"bad presence byte {b}"),
    };

    private static int Length(BinaryReader r)
    {
        var n = r.Read7BitEncodedInt();
        if (n < 0 || n > r.BaseStream.Length - r.BaseStream.Position)
        {
            throw new InvalidDataException($"bad array length {n}");
        }

        return n;
    }

    private static void Text(ref SpillBuffer w, string? value)
    {
        if (value is null)
        {
            w.Byte(0);
            return;
        }

        w.Byte(1);
        w.Utf8(value);
    }

    private static string? Text(BinaryReader r) => Present(r) ? r.ReadString() : null;

    /// <summary>Text that repeats from record to record, as one instance per value (<see cref="DecodedValues"/>).</summary>
    private static string? Shared(BinaryReader r) => DecodedValues.Text(Text(r));

    private static void Int(ref SpillBuffer w, int? value)
    {
        if (value is { } v)
        {
            w.Byte(1);
            w.Int32(v);
        }
        else
        {
            w.Byte(0);
        }
    }

    private static int? Int(BinaryReader r) => Present(r) ? r.ReadInt32() : null;

    private static void Long(ref SpillBuffer w, long? value)
    {
        if (value is { } v)
        {
            w.Byte(1);
            w.Int64(v);
        }
        else
        {
            w.Byte(0);
        }
    }

    private static long? Long(BinaryReader r) => Present(r) ? r.ReadInt64() : null;

    private static void ULong(ref SpillBuffer w, ulong? value)
    {
        if (value is { } v)
        {
            w.Byte(1);
            w.UInt64(v);
        }
        else
        {
            w.Byte(0);
        }
    }

    private static ulong? ULong(BinaryReader r) => Present(r) ? r.ReadUInt64() : null;

    private static void Address(ref SpillBuffer w, IPAddress? address)
    {
        if (address is null)
        {
            w.Byte(0);
            return;
        }

        w.Address(address);
    }

    private static IPAddress? Address(BinaryReader r)
    {
        var length = r.ReadByte();
        if (length == 0)
        {
            return null;
        }

        if (length is not (4 or 16))
        {
            throw new InvalidDataException($"bad address length {length}");
        }

        Span<byte> bytes = stackalloc byte[16];
        r.BaseStream.ReadExactly(bytes[..length]);
        return new IPAddress(bytes[..length]);
    }
}
