using System.Net;
using NetObserv.Flows;
using NetObserv.Storage.Copy;
using NetObserv.Storage.Dictionaries;
using NetObserv.Testing;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Tests.Copy;

/// <summary>
/// <see cref="FlowCopy"/> encodes the binary COPY rows itself: the rows it stores must equal, value for
/// value, what Npgsql's binary importer stores for the same records into a table of the same shape.
/// </summary>
public sealed class FlowCopyEncodingTests : IAsyncLifetime
{
    private readonly PostgresDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task RawCopy_StoresWhatTheNpgsqlImporterStores()
    {
        var records = Records();
        var ids = new RowIds();
        ids.EnsureCapacity(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            ids.Src[i] = i;
            ids.Dst[i] = -i;
            ids.Context[i] = int.MaxValue - i;
        }

        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            // Migrated: flow_rows exists.
        }

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using (var create = new NpgsqlCommand(
                         "CREATE TABLE copy_raw (LIKE flow_rows); CREATE TABLE copy_importer (LIKE flow_rows)", connection))
        {
            await create.ExecuteNonQueryAsync().DefaultTimeout();
        }

        // Over several 64 KiB chunks, and with a start offset into the list.
        var copied = await FlowCopy.WriteAsync(connection, "COPY copy_raw " + FlowCopy.ColumnsAndFormat, records, 0,
            records.Count, ids, CancellationToken.None).DefaultTimeout();
        Assert.Equal((ulong)records.Count, copied);
        await ImportAsync(connection, records, ids).DefaultTimeout();

        Assert.Equal(records.Count, await _database.ScalarAsync<long>("SELECT count(*) FROM copy_raw"));
        Assert.Equal(0, await _database.ScalarAsync<long>("""
            SELECT count(*) FROM ((SELECT * FROM copy_raw EXCEPT ALL SELECT * FROM copy_importer)
                UNION ALL (SELECT * FROM copy_importer EXCEPT ALL SELECT * FROM copy_raw)) d
            """));
        // EXCEPT compares inet by value; the text form also shows the family and netmask.
        Assert.Equal(0, await _database.ScalarAsync<long>("""
            SELECT count(*) FROM copy_raw r FULL JOIN copy_importer i USING (src_endpoint)
            WHERE r.src_addr::text IS DISTINCT FROM i.src_addr::text OR r.dst_addr::text IS DISTINCT FROM i.dst_addr::text
                OR r.time_end::text IS DISTINCT FROM i.time_end::text
            """));
    }

    [Fact]
    public async Task RawCopy_ARowTheDatabaseRefuses_FailsAndLeavesTheConnectionUsable()
    {
        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            // Migrated: flow_rows exists.
        }

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using (var create = new NpgsqlCommand("CREATE TABLE copy_bad (LIKE flow_rows)", connection))
        {
            await create.ExecuteNonQueryAsync().DefaultTimeout();
        }

        var records = TestFlows.Generate(3, seed: 4);
        records[1].ExtraFields = "{not json";
        var ids = new RowIds();
        ids.EnsureCapacity(records.Count);
        await Assert.ThrowsAsync<PostgresException>(() => FlowCopy.WriteAsync(connection,
            "COPY copy_bad " + FlowCopy.ColumnsAndFormat, records, 0, records.Count, ids, CancellationToken.None))
            .DefaultTimeout();

        await using var count = new NpgsqlCommand("SELECT count(*) FROM copy_bad", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync().DefaultTimeout());
    }

    private static List<FlowRecord> Records()
    {
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        List<FlowRecord> records =
        [
            FlowFieldSamples.Full(endMs, "every-v4"),
            FlowFieldSamples.Full(endMs + 1, "every-v6", ipv6: true),
        ];
        records.AddRange(TestFlows.Generate(3_000, seed: 11));
        var edge = TestFlows.Generate(6, seed: 12);
        edge[0].TimeFlowEndMs = long.MinValue;
        edge[0].TimeFlowStartMs = long.MaxValue;
        edge[1].TimeFlowEndMs = long.MaxValue;
        edge[1].TimeReceived = long.MinValue;
        edge[2].SrcAddr = IPAddress.Parse("::ffff:10.1.2.3");
        edge[2].DstAddr = IPAddress.Parse("fe80::1%2");
        edge[3].DnsName = "bad\0name\ud800x \u00e9\u4e2d\ud83d\ude00";
        edge[3].HashId = "";
        edge[3].ExtraFields = "{\"k\":\"\u00e9\ud83d\ude00\",\"n\":[1,2.5,null]}";
        edge[4].SrcAddr = null;
        edge[4].DstAddr = null;
        edge[4].Proto = null;
        edge[4].SrcPort = null;
        edge[4].TimeFlowRttNs = null;
        edge[5].DnsName = new string('x', 100_000);
        edge[5].Bytes = long.MinValue;
        edge[5].Packets = long.MaxValue;
        records.AddRange(edge);
        return records;
    }

    /// <summary>The reference: the same columns through <see cref="NpgsqlBinaryImporter"/>, value by value.</summary>
    private static async Task ImportAsync(NpgsqlConnection connection, List<FlowRecord> records, RowIds ids)
    {
        await using var w = await connection.BeginBinaryImportAsync("COPY copy_importer " + FlowCopy.ColumnsAndFormat);
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            w.StartRow();
            w.Write(FlowTime.ToUtc(r.TimeFlowEndMs), NpgsqlDbType.TimestampTz);
            w.Write(r.Bytes, NpgsqlDbType.Bigint);
            w.Write(r.Packets, NpgsqlDbType.Bigint);
            Value(w, r.TimeFlowRttNs, NpgsqlDbType.Bigint);
            Value(w, r.DnsLatencyMs, NpgsqlDbType.Bigint);
            Value(w, r.PktDropBytes, NpgsqlDbType.Bigint);
            Value(w, r.PktDropPackets, NpgsqlDbType.Bigint);
            w.Write(FlowCopy.DurationMs(r), NpgsqlDbType.Integer);
            w.Write(FlowCopy.ReceivedOffsetSeconds(r), NpgsqlDbType.Integer);
            w.Write(ids.Src[i], NpgsqlDbType.Integer);
            w.Write(ids.Dst[i], NpgsqlDbType.Integer);
            w.Write(ids.Context[i], NpgsqlDbType.Integer);
            Value(w, r.SrcPort, NpgsqlDbType.Integer);
            Value(w, r.DstPort, NpgsqlDbType.Integer);
            Value(w, r.Flags, NpgsqlDbType.Integer);
            Value(w, r.DnsId, NpgsqlDbType.Integer);
            Value(w, r.DnsFlags, NpgsqlDbType.Integer);
            Value(w, r.DnsErrno, NpgsqlDbType.Integer);
            Value(w, (short?)r.Proto, NpgsqlDbType.Smallint);
            Value(w, (short?)r.Dscp, NpgsqlDbType.Smallint);
            Value(w, (short?)r.IcmpType, NpgsqlDbType.Smallint);
            Value(w, (short?)r.IcmpCode, NpgsqlDbType.Smallint);
            Reference(w, r.SrcAddr, NpgsqlDbType.Inet);
            Reference(w, r.DstAddr, NpgsqlDbType.Inet);
            Reference(w, FlowText.Clean(r.DnsName), NpgsqlDbType.Text);
            Reference(w, FlowText.Clean(r.PktDropLatestState), NpgsqlDbType.Text);
            Reference(w, FlowText.Clean(r.PktDropLatestDropCause), NpgsqlDbType.Text);
            Reference(w, FlowText.Clean(r.HashId), NpgsqlDbType.Text);
            Reference(w, FlowText.Clean(r.ExtraFields), NpgsqlDbType.Jsonb);
        }

        await w.CompleteAsync();
    }

    private static void Value<T>(NpgsqlBinaryImporter w, T? value, NpgsqlDbType type)
        where T : struct
    {
        if (value is { } v)
        {
            w.Write(v, type);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Reference<T>(NpgsqlBinaryImporter w, T? value, NpgsqlDbType type)
        where T : class
    {
        if (value is not null)
        {
            w.Write(value, type);
        }
        else
        {
            w.WriteNull();
        }
    }
}
