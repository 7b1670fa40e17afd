using System.Net;
using NetObserv.Flows;
using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.Rollups;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Writes flow records into <c>flow_rows</c> with one binary COPY, with the dictionary ids resolved
/// beforehand (<see cref="FlowDictionaries"/>). Every value goes through the generic
/// <see cref="NpgsqlBinaryImporter.Write{T}(T, NpgsqlDbType)"/> (no boxing); absent fields are NULL.
/// Times are clamped to the representable range and text is cleaned of what PostgreSQL cannot store.
/// </summary>
internal static class FlowCopy
{
    /// <summary>The COPY statement; the column names are the schema's contract.</summary>
    public const string Sql = "COPY flow_rows " + ColumnsAndFormat;

    /// <summary>The column list and format of <see cref="Sql"/>, for a COPY into a table shaped like <c>flow_rows</c>.</summary>
    public const string ColumnsAndFormat = """
        (time_end, bytes, packets, rtt_ns, dns_latency_ms, pkt_drop_bytes, pkt_drop_packets,
            duration_ms, received_offset_s, src_endpoint, dst_endpoint, context, src_port, dst_port, flags,
            dns_id, dns_flags, dns_errno, proto, dscp, icmp_type, icmp_code, src_addr, dst_addr, dns_name,
            pkt_drop_latest_state, pkt_drop_latest_drop_cause, hash_id, extra_fields)
        FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>
    /// Copies <paramref name="count"/> records starting at <paramref name="start"/>, whose dictionary ids
    /// are <paramref name="ids"/> (index 0 for record <paramref name="start"/>), and returns the row count
    /// the server reports.
    /// </summary>
    public static Task<ulong> WriteAsync(NpgsqlConnection connection, List<FlowRecord> records, int start,
        int count, RowIds ids, CancellationToken cancellationToken) =>
        WriteAsync(connection, Sql, records, start, count, ids, cancellationToken);

    /// <summary>The same rows with another COPY statement (a table shaped like <c>flow_rows</c>).</summary>
    public static async Task<ulong> WriteAsync(NpgsqlConnection connection, string copySql, List<FlowRecord> records,
        int start, int count, RowIds ids, CancellationToken cancellationToken)
    {
        var importer = await connection.BeginBinaryImportAsync(copySql, cancellationToken).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            // Rows are written synchronously: values go to the connection's buffer and only a full
            // buffer touches the socket. Per-value awaits cost more than the rare blocking flush.
            for (var i = 0; i < count; i++)
            {
                WriteRow(importer, records[start + i], ids.Src[i], ids.Dst[i], ids.Context[i]);
            }

            return await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>duration_ms</c>: milliseconds from the first to the last packet, within the column's range.</summary>
    public static int DurationMs(FlowRecord r) =>
        (int)Math.Clamp(FlowTime.Clamp(r.TimeFlowEndMs) - FlowTime.Clamp(r.TimeFlowStartMs), int.MinValue, int.MaxValue);

    /// <summary><c>received_offset_s</c>: seconds from the last packet's whole second to <c>TimeReceived</c>.</summary>
    public static int ReceivedOffsetSeconds(FlowRecord r)
    {
        var endSecond = RollupAggregator.Floor(FlowTime.Clamp(r.TimeFlowEndMs), 1000) / 1000;
        return (int)Int128.Clamp((Int128)r.TimeReceived - endSecond, int.MinValue, int.MaxValue);
    }

    private static void WriteRow(NpgsqlBinaryImporter w, FlowRecord r, int src, int dst, int context)
    {
        w.StartRow();
        w.Write(FlowTime.ToUtc(r.TimeFlowEndMs), NpgsqlDbType.TimestampTz);
        w.Write(r.Bytes, NpgsqlDbType.Bigint);
        w.Write(r.Packets, NpgsqlDbType.Bigint);
        Long(w, r.TimeFlowRttNs);
        Long(w, r.DnsLatencyMs);
        Long(w, r.PktDropBytes);
        Long(w, r.PktDropPackets);
        w.Write(DurationMs(r), NpgsqlDbType.Integer);
        w.Write(ReceivedOffsetSeconds(r), NpgsqlDbType.Integer);
        w.Write(src, NpgsqlDbType.Integer);
        w.Write(dst, NpgsqlDbType.Integer);
        w.Write(context, NpgsqlDbType.Integer);
        Int(w, r.SrcPort);
        Int(w, r.DstPort);
        Int(w, r.Flags);
        Int(w, r.DnsId);
        Int(w, r.DnsFlags);
        Int(w, r.DnsErrno);
        Short(w, r.Proto);
        Short(w, r.Dscp);
        Short(w, r.IcmpType);
        Short(w, r.IcmpCode);
        Inet(w, r.SrcAddr);
        Inet(w, r.DstAddr);
        Text(w, r.DnsName);
        Text(w, r.PktDropLatestState);
        Text(w, r.PktDropLatestDropCause);
        Text(w, r.HashId);
        if (FlowText.Clean(r.ExtraFields) is { } extra)
        {
            w.Write(extra, NpgsqlDbType.Jsonb);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Text(NpgsqlBinaryImporter w, string? value)
    {
        if (FlowText.Clean(value) is { } text)
        {
            w.Write(text, NpgsqlDbType.Text);
        }
        else
        {
            w.WriteNull();
        }
    }

    /// <summary>A smallint column; the validator keeps these fields within 0-255.</summary>
    private static void Short(NpgsqlBinaryImporter w, int? value)
    {
        if (value is >= short.MinValue and <= short.MaxValue)
        {
            w.Write((short)value.Value, NpgsqlDbType.Smallint);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Int(NpgsqlBinaryImporter w, int? value)
    {
        if (value is { } v)
        {
            w.Write(v, NpgsqlDbType.Integer);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Long(NpgsqlBinaryImporter w, long? value)
    {
        if (value is { } v)
        {
            w.Write(v, NpgsqlDbType.Bigint);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Inet(NpgsqlBinaryImporter w, IPAddress? value)
    {
        if (value is not null)
        {
            w.Write(value, NpgsqlDbType.Inet);
        }
        else
        {
            w.WriteNull();
        }
    }
}
