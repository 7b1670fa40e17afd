using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NetObserv.Flows.Fields;

namespace NetObserv.Flows;

/// <summary>
/// The NetObserv JSON form of a <see cref="FlowRecord"/>: the line flowlogs-pipeline writes to Loki
/// and the line our Loki API returns. Field names are the NetObserv ones; absent fields are omitted
/// (a namespace is never written as an empty string). <c>Flags</c> is written as flag names, as
/// flowlogs-pipeline's <c>decode_tcp_flags</c> does, and read from either names or a number.
/// </summary>
public static class FlowRecordJson
{
    /// <summary>Writes the record as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, FlowRecord record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);

        writer.WriteStartObject();
        if (record.AgentIP is not null)
        {
            writer.WriteString("AgentIP", record.AgentIP.ToString());
        }

        WriteIfPositive(writer, "Bytes", record.Bytes);
        WriteAddress(writer, "DstAddr", record.DstAddr);
        WriteKubernetes(writer, "Dst", record.Dst);
        WriteMac(writer, "DstMac", record.DstMac);
        WriteNumber(writer, "DstPort", record.DstPort);
        WriteString(writer, "DstSubnetLabel", record.Dst.SubnetLabel);
        WriteNumber(writer, "DnsErrno", record.DnsErrno);
        WriteNumber(writer, "DnsFlags", record.DnsFlags);
        WriteNumber(writer, "DnsId", record.DnsId);
        WriteNumber(writer, "DnsLatencyMs", record.DnsLatencyMs);
        WriteString(writer, "DnsName", record.DnsName);
        WriteNumber(writer, "Dscp", record.Dscp);
        if (record.Duplicate is { } duplicate)
        {
            writer.WriteBoolean("Duplicate", duplicate);
        }

        WriteNumber(writer, "Etype", record.Etype);
        WriteNumber(writer, "FlowDirection", record.FlowDirection);
        if (record.Flags is { } flags)
        {
            writer.WriteStartArray("Flags");
            foreach (var name in TcpFlags.ToNames(flags))
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
        }

        WriteNumber(writer, "IcmpCode", record.IcmpCode);
        WriteNumber(writer, "IcmpType", record.IcmpType);
        if (record.IfDirections is { } ifDirections)
        {
            writer.WriteStartArray("IfDirections");
            foreach (var d in ifDirections)
            {
                writer.WriteNumberValue(d);
            }

            writer.WriteEndArray();
        }

        if (record.Interfaces is { } interfaces)
        {
            writer.WriteStartArray("Interfaces");
            foreach (var name in interfaces)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
        }

        WriteString(writer, "K8S_ClusterName", record.K8SClusterName);
        WriteString(writer, "K8S_FlowLayer", record.K8SFlowLayer);
        WriteIfPositive(writer, "Packets", record.Packets);
        WriteNumber(writer, "PktDropBytes", record.PktDropBytes);
        WriteString(writer, "PktDropLatestDropCause", record.PktDropLatestDropCause);
        WriteString(writer, "PktDropLatestState", record.PktDropLatestState);
        WriteNumber(writer, "PktDropPackets", record.PktDropPackets);
        WriteNumber(writer, "Proto", record.Proto);
        WriteNumber(writer, "Sampling", record.Sampling is > 0 ? record.Sampling : null);
        WriteAddress(writer, "SrcAddr", record.SrcAddr);
        WriteKubernetes(writer, "Src", record.Src);
        WriteMac(writer, "SrcMac", record.SrcMac);
        WriteNumber(writer, "SrcPort", record.SrcPort);
        WriteString(writer, "SrcSubnetLabel", record.Src.SubnetLabel);
        writer.WriteNumber("TimeFlowEndMs", record.TimeFlowEndMs);
        WriteNumber(writer, "TimeFlowRttNs", record.TimeFlowRttNs);
        writer.WriteNumber("TimeFlowStartMs", record.TimeFlowStartMs);
        writer.WriteNumber("TimeReceived", record.TimeReceived);
        WriteString(writer, "_HashId", record.HashId);
        WriteString(writer, "_RecordType", record.RecordType);
        WriteExtraFields(writer, record.ExtraFields);
        writer.WriteEndObject();
    }

    /// <summary>
    /// The properties of <see cref="FlowRecord.ExtraFields"/>, after the known fields, by name. A property named
    /// like a known field is left out (the known field is the value stored); text that is not a JSON
    /// object adds nothing.
    /// </summary>
    private static void WriteExtraFields(Utf8JsonWriter writer, string? extra)
    {
        if (string.IsNullOrEmpty(extra))
        {
            return;
        }

        try
        {
            using var doc = JsonDocument.Parse(extra);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            // In name order: the line is the same whatever order the store kept them in (jsonb reorders keys).
            foreach (var property in doc.RootElement.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                if (!IsKnownField(property.Name))
                {
                    property.WriteTo(writer);
                }
            }
        }
        catch (JsonException)
        {
        }
    }

    private static string? EmptyAsNull(string? text) => string.IsNullOrEmpty(text) ? null : text;

    /// <summary>True when <paramref name="name"/> is a field with a property of <see cref="FlowRecord"/> (one of <see cref="FlowFields"/>).</summary>
    public static bool IsKnownField(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return FlowFields.IsKnown(name);
    }

    /// <summary>The record as a JSON string.</summary>
    public static string ToJson(FlowRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, record);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Reads one NetObserv JSON record. Fields without a property are kept, as sent, in
    /// <see cref="FlowRecord.ExtraFields"/>. Returns false with a reason when the input is not a JSON
    /// object or a known field has the wrong type.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, out FlowRecord record, out string? error)
    {
        record = new FlowRecord();
        try
        {
            using var doc = JsonDocument.Parse(utf8Json.ToArray());
            return TryRead(doc.RootElement, record, out error);
        }
        catch (JsonException ex)
        {
            error = "invalid JSON: " + ex.Message;
            return false;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // Input the reader cannot represent (e.g. a property name that is not valid UTF-8).
            error = "invalid flow record: " + ex.Message;
            return false;
        }
    }

    /// <summary>Reads one NetObserv JSON record from a string.</summary>
    public static bool TryParse(string json, out FlowRecord record, out string? error)
    {
        ArgumentNullException.ThrowIfNull(json);
        return TryParse(Encoding.UTF8.GetBytes(json), out record, out error);
    }

    /// <summary>
    /// Sets the field named <paramref name="name"/> (a NetObserv field name) from a string value,
    /// as a Loki stream label would carry it. Returns false when the name is unknown or the value
    /// does not fit the field's type.
    /// </summary>
    public static bool TrySetFromString(FlowRecord record, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name == "Duplicate")
        {
            // A boolean label reads as Go prints it: true or false.
            if (!bool.TryParse(value, out var duplicate))
            {
                return false;
            }

            record.Duplicate = duplicate;
            return true;
        }

        var json = IsNumericField(name) ? value : JsonSerializer.Serialize(value);
        try
        {
            using var doc = JsonDocument.Parse(json);
            return TrySetField(record, name, doc.RootElement, out _) is true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsNumericField(string name) => FlowFields.TryGet(name, out var field) && field.IsNumeric;

    private static bool TryRead(JsonElement root, FlowRecord record, out string? error)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "a flow record must be a JSON object";
            return false;
        }

        FlowExtraFieldsWriter? extra = null;
        try
        {
            foreach (var property in root.EnumerateObject())
            {
                var set = TrySetField(record, property.Name, property.Value, out error);
                if (set is false)
                {
                    return false;
                }

                if (set is null && property.Value.ValueKind != JsonValueKind.Null)
                {
                    extra ??= new FlowExtraFieldsWriter();
                    extra.Add(property.Name, property.Value);
                }
            }

            if (extra is not null)
            {
                record.ExtraFields = extra.Build();
                record.ExtraFieldsDropped = extra.Dropped;
            }
        }
        finally
        {
            extra?.Dispose();
        }

        error = null;
        return true;
    }

    /// <summary>True: set; false: known field with a bad value (error set); null: unknown field.</summary>
    private static bool? TrySetField(FlowRecord r, string name, JsonElement v, out string? error)
    {
        error = null;
        try
        {
            switch (name)
            {
                case "TimeFlowStartMs": r.TimeFlowStartMs = v.GetInt64(); return true;
                case "TimeFlowEndMs": r.TimeFlowEndMs = v.GetInt64(); return true;
                case "TimeReceived": r.TimeReceived = v.GetInt64(); return true;
                case "SrcAddr": r.SrcAddr = ParseAddress(v); return true;
                case "DstAddr": r.DstAddr = ParseAddress(v); return true;
                case "AgentIP": r.AgentIP = ParseAddress(v); return true;
                case "SrcMac": r.SrcMac = ParseMac(v.GetString()); return true;
                case "DstMac": r.DstMac = ParseMac(v.GetString()); return true;
                case "SrcPort": r.SrcPort = v.GetInt32(); return true;
                case "DstPort": r.DstPort = v.GetInt32(); return true;
                case "Proto": r.Proto = v.GetInt32(); return true;
                case "Etype": r.Etype = v.GetInt32(); return true;
                case "Dscp": r.Dscp = v.GetInt32(); return true;
                case "IcmpType": r.IcmpType = v.GetInt32(); return true;
                case "IcmpCode": r.IcmpCode = v.GetInt32(); return true;
                case "Bytes": r.Bytes = v.GetInt64(); return true;
                case "Packets": r.Packets = v.GetInt64(); return true;
                case "Sampling": r.Sampling = v.GetInt32(); return true;
                case "FlowDirection": r.FlowDirection = v.GetInt32(); return true;
                case "Duplicate": r.Duplicate = v.GetBoolean(); return true;
                case "DnsId": r.DnsId = v.GetInt32(); return true;
                case "DnsFlags": r.DnsFlags = v.GetInt32(); return true;
                case "DnsLatencyMs": r.DnsLatencyMs = v.GetInt64(); return true;
                case "DnsErrno": r.DnsErrno = v.GetInt32(); return true;
                case "DnsName": r.DnsName = v.GetString(); return true;
                case "TimeFlowRttNs": r.TimeFlowRttNs = v.GetInt64(); return true;
                case "PktDropBytes": r.PktDropBytes = v.GetInt64(); return true;
                case "PktDropPackets": r.PktDropPackets = v.GetInt64(); return true;
                case "PktDropLatestState": r.PktDropLatestState = v.GetString(); return true;
                case "PktDropLatestDropCause": r.PktDropLatestDropCause = v.GetString(); return true;
                case "K8S_FlowLayer": r.K8SFlowLayer = v.GetString(); return true;
                case "K8S_ClusterName": r.K8SClusterName = v.GetString(); return true;
                case "_RecordType": r.RecordType = v.GetString(); return true;
                case "_HashId": r.HashId = v.GetString(); return true;
                case "SrcSubnetLabel": r.Src.SubnetLabel = EmptyAsNull(v.GetString()); return true;
                case "DstSubnetLabel": r.Dst.SubnetLabel = EmptyAsNull(v.GetString()); return true;
                case "Flags": r.Flags = ParseFlags(v); return true;
                case "Interfaces": r.Interfaces = ParseStrings(v); return true;
                case "IfDirections": r.IfDirections = ParseInts(v); return true;
                default:
                    if (name.StartsWith("SrcK8S_", StringComparison.Ordinal))
                    {
                        return SetKubernetes(r.Src, name.AsSpan(7), v);
                    }

                    if (name.StartsWith("DstK8S_", StringComparison.Ordinal))
                    {
                        return SetKubernetes(r.Dst, name.AsSpan(7), v);
                    }

                    return null;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            error = $"field {name}: {ex.Message}";
            return false;
        }
    }

    private static bool? SetKubernetes(KubernetesMetadata m, ReadOnlySpan<char> suffix, JsonElement v)
    {
        var text = v.GetString();
        var value = string.IsNullOrEmpty(text) ? null : text;
        switch (suffix)
        {
            case "Name": m.Name = value; return true;
            case "Type": m.Type = value; return true;
            case "Namespace": m.Namespace = value; return true;
            case "OwnerName": m.OwnerName = value; return true;
            case "OwnerType": m.OwnerType = value; return true;
            case "HostIP": m.HostIP = value is null ? null : IPAddress.Parse(value); return true;
            case "HostName": m.HostName = value; return true;
            case "Zone": m.Zone = value; return true;
            default: return null;
        }
    }

    private static IPAddress? ParseAddress(JsonElement v)
    {
        var text = v.GetString();
        return string.IsNullOrEmpty(text) ? null : IPAddress.Parse(text);
    }

    private static int ParseFlags(JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number)
        {
            return v.GetInt32();
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("expected a number or an array of flag names");
        }

        var flags = 0;
        foreach (var item in v.EnumerateArray())
        {
            flags |= TcpFlags.FromName(item.GetString() ?? "");
        }

        return flags;
    }

    private static string[] ParseStrings(JsonElement v)
    {
        var result = new string[v.GetArrayLength()];
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            result[i++] = item.GetString() ?? "";
        }

        return result;
    }

    private static int[] ParseInts(JsonElement v)
    {
        var result = new int[v.GetArrayLength()];
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            result[i++] = item.GetInt32();
        }

        return result;
    }

    /// <summary>Parses <c>aa:bb:cc:dd:ee:ff</c> (or with dashes) into a 48-bit number.</summary>
    public static ulong? ParseMac(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var hex = text.Replace(":", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (hex.Length != 12)
        {
            throw new FormatException($"'{text}' is not a MAC address");
        }

        return ulong.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>Formats a 48-bit number as <c>aa:bb:cc:dd:ee:ff</c> (lower case, as the agent does).</summary>
    public static string FormatMac(ulong mac)
    {
        Span<char> chars = stackalloc char[17];
        for (var i = 0; i < 6; i++)
        {
            var b = (byte)(mac >> ((5 - i) * 8));
            chars[i * 3] = HexDigit(b >> 4);
            chars[(i * 3) + 1] = HexDigit(b & 0xF);
            if (i < 5)
            {
                chars[(i * 3) + 2] = ':';
            }
        }

        return new string(chars);
    }

    private static char HexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static void WriteKubernetes(Utf8JsonWriter w, string side, KubernetesMetadata m)
    {
        WriteString(w, side + "K8S_HostIP", m.HostIP?.ToString());
        WriteString(w, side + "K8S_HostName", m.HostName);
        WriteString(w, side + "K8S_Name", m.Name);
        WriteString(w, side + "K8S_Namespace", m.Namespace);
        WriteString(w, side + "K8S_OwnerName", m.OwnerName);
        WriteString(w, side + "K8S_OwnerType", m.OwnerType);
        WriteString(w, side + "K8S_Type", m.Type);
        WriteString(w, side + "K8S_Zone", m.Zone);
    }

    private static void WriteAddress(Utf8JsonWriter w, string name, IPAddress? address)
    {
        if (address is not null)
        {
            w.WriteString(name, address.ToString());
        }
    }

    private static void WriteMac(Utf8JsonWriter w, string name, ulong? mac)
    {
        if (mac is { } value)
        {
            w.WriteString(name, FormatMac(value));
        }
    }

    private static void WriteString(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    private static void WriteIfPositive(Utf8JsonWriter w, string name, long value)
    {
        if (value > 0)
        {
            w.WriteNumber(name, value);
        }
    }
}
