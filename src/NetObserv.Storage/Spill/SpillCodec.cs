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
/// </summary>
internal static class SpillCodec
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Appends records [start, start + count) to <paramref name="stream"/>.</summary>
    public static void Encode(Stream stream, List<FlowRecord> records, int start, int count)
    {
        using var w = new BinaryWriter(stream, s_utf8, leaveOpen: true);
        for (var i = start; i < start + count; i++)
        {
            Write(w, records[i]);
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

    private static void Write(BinaryWriter w, FlowRecord f)
    {
        w.Write(f.TimeFlowStartMs);
        w.Write(f.TimeFlowEndMs);
        w.Write(f.TimeReceived);
        w.Write(f.Tenant);
        Address(w, f.SrcAddr);
        Address(w, f.DstAddr);
        ULong(w, f.SrcMac);
        ULong(w, f.DstMac);
        Int(w, f.SrcPort);
        Int(w, f.DstPort);
        Int(w, f.Proto);
        Int(w, f.Etype);
        Int(w, f.Flags);
        Int(w, f.Dscp);
        Int(w, f.IcmpType);
        Int(w, f.IcmpCode);
        w.Write(f.Bytes);
        w.Write(f.Packets);
        Int(w, f.Sampling);
        Int(w, f.FlowDirection);
        if (f.Interfaces is { } interfaces)
        {
            w.Write((byte)1);
            w.Write7BitEncodedInt(interfaces.Length);
            foreach (var name in interfaces)
            {
                Text(w, name);
            }
        }
        else
        {
            w.Write((byte)0);
        }

        if (f.IfDirections is { } directions)
        {
            w.Write((byte)1);
            w.Write7BitEncodedInt(directions.Length);
            foreach (var direction in directions)
            {
                w.Write(direction);
            }
        }
        else
        {
            w.Write((byte)0);
        }

        w.Write((byte)(f.Duplicate switch { null => 0, false => 1, true => 2 }));
        Address(w, f.AgentIP);
        Int(w, f.DnsId);
        Int(w, f.DnsFlags);
        Long(w, f.DnsLatencyMs);
        Int(w, f.DnsErrno);
        Text(w, f.DnsName);
        Long(w, f.TimeFlowRttNs);
        Long(w, f.PktDropBytes);
        Long(w, f.PktDropPackets);
        Text(w, f.PktDropLatestState);
        Text(w, f.PktDropLatestDropCause);
        Kubernetes(w, f.Src);
        Kubernetes(w, f.Dst);
        Text(w, f.K8SFlowLayer);
        Text(w, f.K8SClusterName);
        Text(w, f.RecordType);
        Text(w, f.HashId);
        Text(w, f.Src.SubnetLabel);
        Text(w, f.Dst.SubnetLabel);
        Text(w, f.ExtraFields);
    }

    private static FlowRecord Read(BinaryReader r, int version)
    {
        var f = new FlowRecord
        {
            TimeFlowStartMs = r.ReadInt64(),
            TimeFlowEndMs = r.ReadInt64(),
            TimeReceived = r.ReadInt64(),
            Tenant = r.ReadString(),
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
        f.K8SFlowLayer = Text(r);
        f.K8SClusterName = Text(r);
        f.RecordType = Text(r);
        f.HashId = Text(r);
        if (version >= 2)
        {
            f.Src.SubnetLabel = Text(r);
            f.Dst.SubnetLabel = Text(r);
            f.ExtraFields = Text(r);
        }

        return f;
    }

    private static void Kubernetes(BinaryWriter w, KubernetesMetadata k)
    {
        Text(w, k.Name);
        Text(w, k.Type);
        Text(w, k.Namespace);
        Text(w, k.OwnerName);
        Text(w, k.OwnerType);
        Address(w, k.HostIP);
        Text(w, k.HostName);
        Text(w, k.Zone);
    }

    private static KubernetesMetadata Kubernetes(BinaryReader r) => new()
    {
        Name = Text(r),
        Type = Text(r),
        Namespace = Text(r),
        OwnerName = Text(r),
        OwnerType = Text(r),
        HostIP = Address(r),
        HostName = Text(r),
        Zone = Text(r),
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

    private static void Text(BinaryWriter w, string? value)
    {
        if (value is null)
        {
            w.Write((byte)0);
            return;
        }

        w.Write((byte)1);
        w.Write(value);
    }

    private static string? Text(BinaryReader r) => Present(r) ? r.ReadString() : null;

    private static void Int(BinaryWriter w, int? value)
    {
        w.Write((byte)(value.HasValue ? 1 : 0));
        if (value is { } v)
        {
            w.Write(v);
        }
    }

    private static int? Int(BinaryReader r) => Present(r) ? r.ReadInt32() : null;

    private static void Long(BinaryWriter w, long? value)
    {
        w.Write((byte)(value.HasValue ? 1 : 0));
        if (value is { } v)
        {
            w.Write(v);
        }
    }

    private static long? Long(BinaryReader r) => Present(r) ? r.ReadInt64() : null;

    private static void ULong(BinaryWriter w, ulong? value)
    {
        w.Write((byte)(value.HasValue ? 1 : 0));
        if (value is { } v)
        {
            w.Write(v);
        }
    }

    private static ulong? ULong(BinaryReader r) => Present(r) ? r.ReadUInt64() : null;

    private static void Address(BinaryWriter w, IPAddress? address)
    {
        if (address is null)
        {
            w.Write((byte)0);
            return;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        w.Write((byte)written);
        w.Write(bytes[..written]);
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
