using System.Buffers.Binary;

namespace NetObserv.Flows.Tests.Ipfix;

/// <summary>
/// Writes IPFIX and NetFlow v9 packets byte by byte for tests, independently of the decoder: header,
/// sets with their lengths filled in, template records, raw field values.
/// </summary>
internal sealed class IpfixTestMessage
{
    private readonly List<byte> _bytes = [];
    private readonly int _version;
    private int _setStart = -1;

    private IpfixTestMessage(int version)
    {
        _version = version;
    }

    /// <summary>An IPFIX message header (length filled in by <see cref="ToArray"/>).</summary>
    public static IpfixTestMessage Ipfix(uint exportTime = 1_700_000_000, uint domain = 1, uint sequence = 0)
    {
        var m = new IpfixTestMessage(10);
        m.U16(10).U16(0).U32(exportTime).U32(sequence).U32(domain);
        return m;
    }

    /// <summary>A NetFlow v9 packet header.</summary>
    public static IpfixTestMessage NetflowV9(uint uptimeMs, uint unixSeconds, uint sourceId = 1, ushort count = 1)
    {
        var m = new IpfixTestMessage(9);
        m.U16(9).U16(count).U32(uptimeMs).U32(unixSeconds).U32(0).U32(sourceId);
        return m;
    }

    public int Length => _bytes.Count;

    public IpfixTestMessage U8(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public IpfixTestMessage U16(int value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)value);
        return Raw(b);
    }

    public IpfixTestMessage U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return Raw(b);
    }

    public IpfixTestMessage U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return Raw(b);
    }

    public IpfixTestMessage Raw(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            _bytes.Add(b);
        }

        return this;
    }

    public IpfixTestMessage Ip(string address) => Raw(System.Net.IPAddress.Parse(address).GetAddressBytes());

    public IpfixTestMessage Mac(ulong mac) => Raw(BitConverter.GetBytes(mac).Take(6).Reverse().ToArray());

    /// <summary>Opens a set (or v9 flowset) with this id; <see cref="EndSet"/> writes its length.</summary>
    public IpfixTestMessage BeginSet(int setId)
    {
        _setStart = _bytes.Count;
        return U16(setId).U16(0);
    }

    /// <summary>Closes the open set after <paramref name="padding"/> zero bytes.</summary>
    public IpfixTestMessage EndSet(int padding = 0)
    {
        for (var i = 0; i < padding; i++)
        {
            _bytes.Add(0);
        }

        var length = _bytes.Count - _setStart;
        _bytes[_setStart + 2] = (byte)(length >> 8);
        _bytes[_setStart + 3] = (byte)length;
        _setStart = -1;
        return this;
    }

    /// <summary>A template record: id, field count, then (element, length[, enterprise]) per field.</summary>
    public IpfixTestMessage TemplateRecord(int templateId, params Field[] fields)
    {
        U16(templateId).U16(fields.Length);
        return FieldSpecifiers(fields);
    }

    /// <summary>An IPFIX options template record (the first <paramref name="scopeCount"/> fields are scope).</summary>
    public IpfixTestMessage OptionsTemplateRecord(int templateId, int scopeCount, params Field[] fields)
    {
        U16(templateId).U16(fields.Length).U16(scopeCount);
        return FieldSpecifiers(fields);
    }

    /// <summary>A whole template set (set id 2 in IPFIX, flowset 0 in v9) holding one template.</summary>
    public IpfixTestMessage Template(int templateId, params Field[] fields) =>
        BeginSet(_version == 10 ? 2 : 0).TemplateRecord(templateId, fields).EndSet();

    private IpfixTestMessage FieldSpecifiers(Field[] fields)
    {
        foreach (var f in fields)
        {
            if (f.Enterprise != 0)
            {
                U16(f.Element | 0x8000).U16(f.Length).U32(f.Enterprise);
            }
            else
            {
                U16(f.Element).U16(f.Length);
            }
        }

        return this;
    }

    public byte[] ToArray()
    {
        var bytes = _bytes.ToArray();
        if (_version == 10)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)bytes.Length);
        }

        return bytes;
    }

    internal readonly record struct Field(int Element, int Length, uint Enterprise = 0);
}
