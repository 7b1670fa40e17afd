using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Flows;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage;
using NetObserv.Storage.Copy;
using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.LocalPostgres;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Spill;
using Npgsql;

namespace NetObserv.Benchmarks.Copy;

/// <summary>
/// <c>writer [--rows N] [--runs R] [--batch-size B] [--writers W] [--send-size S] [--copy-rows C] [--timescaledb auto|on|off] [--replayed] [--database CS]</c>: rows/s of
/// the batch writer (dictionary ids, binary COPY plus rollup deltas, one transaction per batch) against a plain
/// binary COPY of the same rows (ids resolved beforehand) into a table with the columns, daily partitions and
/// index of <c>flow_rows</c> (native partitions or a hypertable, as the storage mode; <c>--timescaledb</c>
/// auto|on|off as the server's option), in as many parallel streams as writer loops, each a COPY per C rows
/// (default: the batch size; 0: one COPY per stream), in the same run on the same server.
/// The writer takes the rows from its channel in sends of S records, as the ingest door hands them over: once
/// with the dictionary ids the door looks up (live traffic), once without (the writer finds them), and with
/// <c>--replayed</c> once more as the journal replays them (decoded, with their own strings). Its id
/// cache stays warm from run to run, as in a running server; run 0 warms up and is not counted.
/// Without <c>--database</c> a managed PostgreSQL is started in a temporary folder.
/// </summary>
internal static class WriterBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = int.Parse(Arg(args, "--rows") ?? "1000000", CultureInfo.InvariantCulture);
        var runs = int.Parse(Arg(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        var batchSize = int.Parse(Arg(args, "--batch-size") ?? "10000", CultureInfo.InvariantCulture);
        var writers = int.Parse(Arg(args, "--writers") ?? "2", CultureInfo.InvariantCulture);
        var sendSize = Math.Max(1, int.Parse(Arg(args, "--send-size") ?? "1000", CultureInfo.InvariantCulture));
        var timescaleDb = Arg(args, "--timescaledb") ?? "auto";
        var replayed = Array.IndexOf(args, "--replayed") >= 0;
        var copyRows = int.Parse(Arg(args, "--copy-rows") ?? batchSize.ToString(CultureInfo.InvariantCulture),
            CultureInfo.InvariantCulture);

        ManagedPostgres? managed = null;
        string? tempDir = null;
        var connectionString = Arg(args, "--database");
        if (connectionString is null)
        {
            tempDir = Path.Combine(Path.GetTempPath(), "netobserv-bench-" + Environment.ProcessId);
            managed = await ManagedPostgres.StartAsync(Path.Combine(tempDir, "pg"), CancellationToken.None);
            await managed.CreateDatabaseAsync("bench", CancellationToken.None);
            connectionString = managed.ConnectionString("bench");
        }

        try
        {
            return await MeasureAsync(connectionString, rows, runs, batchSize, writers, sendSize, timescaleDb, copyRows, replayed);
        }
        finally
        {
            if (managed is not null)
            {
                await managed.DisposeAsync();
                TryDelete(tempDir!);
            }
        }
    }

    private static async Task<int> MeasureAsync(string connectionString, int rows, int runs, int batchSize,
        int writers, int sendSize, string timescaleDb, int copyRows, bool replayed)
    {
        var records = BenchmarkFlows.Generate(rows, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = connectionString,
            ["Storage:BatchSize"] = batchSize.ToString(CultureInfo.InvariantCulture),
            ["Storage:Writers"] = writers.ToString(CultureInfo.InvariantCulture),
            ["Storage:ChannelCapacity"] = rows.ToString(CultureInfo.InvariantCulture),
            ["Storage:TimescaleDb"] = timescaleDb,
        }).Build();
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()!;
        await using var database = await FlowDatabase.OpenAsync(options, null, CancellationToken.None);
        Console.WriteLine($"writer benchmark: {rows:N0} rows, batch size {batchSize:N0}, {writers} writer(s), sends of "
            + $"{sendSize:N0}, {runs} runs, {database.Mode} mode, {Environment.ProcessorCount} cores; COPY streams of "
            + (copyRows > 0 ? $"{copyRows:N0} rows per COPY" : "one COPY each"));
        await PrepareCopyTableAsync(database.DataSource, database.Mode, records);
        var ids = await ResolveIdsAsync(database.DataSource, records);

        var keys = new FlowKeyCache();
        // The same rows as the journal gives them back after a restart or an outage: decoded, with their own
        // string and address instances, so the writer finds their ids by text.
        var fromJournal = replayed ? Replayed(records) : null;
        var doorRates = new List<double>();
        var writerRates = new List<double>();
        var replayRates = new List<double>();
        var copyRates = new List<double>();
        // Run 0 warms up (JIT, caches, the server's relation files, the dictionary ids) and is not counted.
        // Each measurement starts on emptied tables after a CHECKPOINT, so none pays for flushing what another
        // wrote; the order alternates.
        for (var run = 0; run <= runs; run++)
        {
            var measurements = new List<Func<Task<TimeSpan>>>
            {
                () => MeasureWriterAsync(configuration, database, records, sendSize, keys, door: true),
                () => MeasureWriterAsync(configuration, database, records, sendSize, keys, door: false),
                () => MeasureCopyAsync(database.DataSource, records, ids, writers, copyRows),
            };
            if (fromJournal is not null)
            {
                measurements.Add(() => MeasureWriterAsync(configuration, database, fromJournal, sendSize, keys, door: false));
            }

            var times = new TimeSpan[measurements.Count];
            for (var m = 0; m < measurements.Count; m++)
            {
                var which = run % 2 == 1 ? m : measurements.Count - 1 - m;
                await TruncateAsync(database.DataSource);
                times[which] = await measurements[which]();
            }

            var (door, writer, copy) = (times[0], times[1], times[2]);
            if (run > 0)
            {
                doorRates.Add(rows / door.TotalSeconds);
                writerRates.Add(rows / writer.TotalSeconds);
                copyRates.Add(rows / copy.TotalSeconds);
                if (fromJournal is not null)
                {
                    replayRates.Add(rows / times[3].TotalSeconds);
                }
            }

            var replay = fromJournal is null ? "" : string.Create(CultureInfo.InvariantCulture,
                $"   writer, replayed {rows / times[3].TotalSeconds,10:N0} rows/s ({copy / times[3]:P0})");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(run == 0 ? "warm-up" : "run " + run),-7}  writer, door's ids {rows / door.TotalSeconds,10:N0} rows/s ({copy / door:P0})"
                + $"   writer, no ids {rows / writer.TotalSeconds,10:N0} rows/s ({copy / writer:P0})"
                + $"{replay}   {writers} x binary COPY {rows / copy.TotalSeconds,10:N0} rows/s"));
        }

        var doorMedian = Median(doorRates);
        var writerMedian = Median(writerRates);
        var copyMedian = Median(copyRates);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"writer, records with the ingest door's ids, median: {doorMedian,10:N0} rows/s  ({doorMedian / copyMedian:P0} of COPY)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"writer, records without the door's ids, median:    {writerMedian,10:N0} rows/s  ({writerMedian / copyMedian:P0} of COPY)"));
        if (replayRates.Count > 0)
        {
            var replayMedian = Median(replayRates);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"writer, records replayed from the journal, median: {replayMedian,10:N0} rows/s  ({replayMedian / copyMedian:P0} of COPY)"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{writers} x binary COPY (ids resolved), median:          {copyMedian,10:N0} rows/s"));
        return 0;
    }

    /// <summary>The records through the journal's codec and back.</summary>
    private static List<FlowRecord> Replayed(List<FlowRecord> records)
    {
        using var encoded = new MemoryStream();
        SpillCodec.Encode(encoded, records, 0, records.Count);
        var payload = encoded.ToArray();
        var decoded = new List<FlowRecord>(records.Count);
        var stopwatch = Stopwatch.StartNew();
        SpillCodec.Decode(payload, 0, records.Count, decoded);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"journal payload decoded (not in the timings): {records.Count / stopwatch.Elapsed.TotalSeconds:N0} records/s"));
        return decoded;
    }

    private static async Task<TimeSpan> MeasureWriterAsync(IConfiguration configuration, FlowDatabase database,
        List<FlowRecord> records, int sendSize, FlowKeyCache keys, bool door)
    {
        // As the ingest door hands records over: their dictionary ids looked up (FlowKeyCache.Look) when the
        // cache knows their keys; or without, and the writer finds them itself.
        foreach (var record in records)
        {
            record.KeyIds = default;
        }

        if (door)
        {
            for (var i = 0; i < records.Count; i += sendSize)
            {
                keys.Look(records.GetRange(i, Math.Min(sendSize, records.Count - i)));
            }
        }

        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging();
        services.AddSingleton(database);
        services.AddSingleton(keys);
        services.AddFlowStorage(configuration);
        await using var provider = services.BuildServiceProvider();
        var channel = provider.GetRequiredService<FlowChannel>();
        var writer = provider.GetRequiredService<FlowBatchWriter>();
        for (var i = 0; i < records.Count; i += sendSize)
        {
            if (!channel.TryWriteBatch(records.GetRange(i, Math.Min(sendSize, records.Count - i))))
            {
                throw new InvalidOperationException("channel refused the records");
            }
        }

        var stopwatch = Stopwatch.StartNew();
        await writer.StartAsync(CancellationToken.None);
        while (writer.RowsWritten < records.Count)
        {
            await Task.Delay(5);
        }

        stopwatch.Stop();
        await writer.StopAsync(CancellationToken.None);
        if (writer.RowsRejected != 0)
        {
            throw new InvalidOperationException($"{writer.RowsRejected} rows rejected");
        }

        return stopwatch.Elapsed;
    }

    /// <summary>
    /// The dictionary ids of every record, resolved once: the baseline COPY pays for the rows only, the writer
    /// also for its dictionary lookups.
    /// </summary>
    private static async Task<RowIds> ResolveIdsAsync(NpgsqlDataSource dataSource, List<FlowRecord> records)
    {
        var ids = new RowIds();
        await using var connection = await dataSource.OpenConnectionAsync();
        await new FlowDictionaries().ResolveAsync(connection, records, 0, records.Count, ids, CancellationToken.None);
        return ids;
    }

    /// <summary>
    /// <paramref name="streams"/> binary COPY streams in parallel, each of a contiguous slice of the records, into
    /// <c>flows_copy</c>: a COPY (and its commit) per <paramref name="copyRows"/> rows, or one per stream when 0.
    /// </summary>
    private static async Task<TimeSpan> MeasureCopyAsync(NpgsqlDataSource dataSource, List<FlowRecord> records,
        RowIds ids, int streams, int copyRows)
    {
        var slice = (records.Count + streams - 1) / streams;
        var stopwatch = Stopwatch.StartNew();
        var copied = await Task.WhenAll(Enumerable.Range(0, streams).Select(async s =>
        {
            var start = s * slice;
            var end = Math.Min(records.Count, start + slice);
            var step = copyRows > 0 ? copyRows : Math.Max(1, end - start);
            await using var connection = await dataSource.OpenConnectionAsync();
            ulong rows = 0;
            for (var from = start; from < end; from += step)
            {
                var count = Math.Min(step, end - from);
                var pieceIds = new RowIds();
                pieceIds.EnsureCapacity(count);
                Array.Copy(ids.Src, from, pieceIds.Src, 0, count);
                Array.Copy(ids.Dst, from, pieceIds.Dst, 0, count);
                Array.Copy(ids.Context, from, pieceIds.Context, 0, count);
                rows += await FlowCopy.WriteAsync(connection, "COPY flows_copy " + FlowCopy.ColumnsAndFormat, records,
                    from, count, pieceIds, CancellationToken.None);
            }

            return rows;
        }));
        stopwatch.Stop();
        if (copied.Sum(c => (long)c) != records.Count)
        {
            throw new InvalidOperationException("the COPY streams did not load every row");
        }

        return stopwatch.Elapsed;
    }

    /// <summary>
    /// flows_copy: the same columns, index and daily partitions as flow_rows (native range partitions, or a
    /// hypertable with one-day chunks in TimescaleDB mode).
    /// </summary>
    private static async Task PrepareCopyTableAsync(NpgsqlDataSource dataSource, StorageMode mode, List<FlowRecord> records)
    {
        var sql = new List<string> { "DROP TABLE IF EXISTS flows_copy" };
        if (mode == StorageMode.TimescaleDb)
        {
            sql.Add("CREATE TABLE flows_copy (LIKE flow_rows INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
            sql.Add("SELECT create_hypertable('flows_copy', 'time_end', chunk_time_interval => INTERVAL '1 day', "
                + "create_default_indexes => false)");
        }
        else
        {
            sql.Add("CREATE TABLE flows_copy (LIKE flow_rows INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (time_end)");
            foreach (var day in records.Select(r => FlowPartitions.DayOf(r.TimeFlowEndMs)).Distinct())
            {
                var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                var to = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                sql.Add($"CREATE TABLE flows_copy_{day:yyyyMMdd} PARTITION OF flows_copy FOR VALUES FROM ('{from}') TO ('{to}')");
            }
        }

        sql.Add("CREATE INDEX ON flows_copy USING brin (time_end) WITH (pages_per_range = 16)");
        foreach (var statement in sql)
        {
            await using var command = dataSource.CreateCommand(statement);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task TruncateAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "TRUNCATE flow_rows, flows_copy, flow_rollup_1m_delta, flow_rollup_1m_rows, flow_rollup_5m_rows, flow_rollup_1h_rows; CHECKPOINT");
        await command.ExecuteNonQueryAsync();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1
            ? sorted[sorted.Count / 2]
            : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
