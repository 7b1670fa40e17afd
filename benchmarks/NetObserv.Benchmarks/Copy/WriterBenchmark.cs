using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Flows;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage;
using NetObserv.Storage.Copy;
using NetObserv.Storage.LocalPostgres;
using NetObserv.Storage.Partitions;
using Npgsql;

namespace NetObserv.Benchmarks.Copy;

/// <summary>
/// <c>writer [--rows N] [--runs R] [--batch-size B] [--writers W] [--database CS]</c>: rows/s of the batch writer
/// (binary COPY plus rollup upserts, one transaction per batch) against <c>psql \copy</c> of the same
/// rows from a CSV file into an identical partitioned table, in the same run on the same server.
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
        var psql = Arg(args, "--psql") ?? "/usr/bin/psql";

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
            return await MeasureAsync(connectionString, rows, runs, batchSize, writers, psql, tempDir ?? Path.GetTempPath());
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
        int writers, string psql, string workDir)
    {
        Console.WriteLine($"writer benchmark: {rows:N0} rows, batch size {batchSize:N0}, {writers} writer(s), {runs} runs, "
            + $"{Environment.ProcessorCount} cores");
        var records = BenchmarkFlows.Generate(rows, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var csv = Path.Combine(workDir, "flows-" + Environment.ProcessId + ".csv");
        FlowCsv.Write(csv, records);

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = connectionString,
            ["Storage:BatchSize"] = batchSize.ToString(CultureInfo.InvariantCulture),
            ["Storage:Writers"] = writers.ToString(CultureInfo.InvariantCulture),
            ["Storage:ChannelCapacity"] = rows.ToString(CultureInfo.InvariantCulture),
        }).Build();
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()!;
        await using var database = await FlowDatabase.OpenAsync(options, null, CancellationToken.None);
        await PrepareCopyTableAsync(database.DataSource, records);

        var writerRates = new List<double>();
        var copyRates = new List<double>();
        try
        {
            for (var run = 1; run <= runs; run++)
            {
                await TruncateAsync(database.DataSource);
                // Alternate which goes first, so neither always meets a freshly truncated, checkpointed server.
                TimeSpan writer, copy;
                if (run % 2 == 1)
                {
                    writer = await MeasureWriterAsync(configuration, database, records);
                    copy = await MeasureCopyAsync(psql, connectionString, csv, rows);
                }
                else
                {
                    copy = await MeasureCopyAsync(psql, connectionString, csv, rows);
                    writer = await MeasureWriterAsync(configuration, database, records);
                }

                writerRates.Add(rows / writer.TotalSeconds);
                copyRates.Add(rows / copy.TotalSeconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run}: writer {rows / writer.TotalSeconds,12:N0} rows/s ({writer.TotalSeconds:F2} s)   "
                    + $"psql \\copy {rows / copy.TotalSeconds,12:N0} rows/s ({copy.TotalSeconds:F2} s)"));
            }
        }
        finally
        {
            File.Delete(csv);
        }

        var writerMedian = Median(writerRates);
        var copyMedian = Median(copyRates);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"writer (COPY + rollups), median: {writerMedian:N0} rows/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"psql \\copy, median:              {copyMedian:N0} rows/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio writer / \\copy:            {writerMedian / copyMedian:P0}"));
        return 0;
    }

    private static async Task<TimeSpan> MeasureWriterAsync(IConfiguration configuration, FlowDatabase database,
        List<FlowRecord> records)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging();
        services.AddSingleton(database);
        services.AddFlowStorage(configuration);
        await using var provider = services.BuildServiceProvider();
        var channel = provider.GetRequiredService<FlowChannel>();
        var writer = provider.GetRequiredService<FlowBatchWriter>();
        if (!channel.TryWriteBatch(records))
        {
            throw new InvalidOperationException("channel refused the records");
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

    private static async Task<TimeSpan> MeasureCopyAsync(string psql, string connectionString, string csv, int rows)
    {
        var cs = new NpgsqlConnectionStringBuilder(connectionString);
        var columns = FlowCopy.Sql[(FlowCopy.Sql.IndexOf('(', StringComparison.Ordinal) + 1)..FlowCopy.Sql.IndexOf(')', StringComparison.Ordinal)]
            .ReplaceLineEndings(" ");
        var start = new ProcessStartInfo(psql)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[]
        {
            "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cs.Host!, "-p", cs.Port.ToString(CultureInfo.InvariantCulture),
            "-U", cs.Username!, "-d", cs.Database!,
            "-c", $"\\copy flows_copy ({columns}) FROM '{csv}' WITH (FORMAT csv)",
        })
        {
            start.ArgumentList.Add(a);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        stopwatch.Stop();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("psql failed: " + await stderr);
        }

        await using var check = NpgsqlDataSource.Create(connectionString);
        await using var count = check.CreateCommand("SELECT count(*) FROM flows_copy");
        if ((long)(await count.ExecuteScalarAsync())! != rows)
        {
            throw new InvalidOperationException("psql \\copy did not load every row");
        }

        return stopwatch.Elapsed;
    }

    /// <summary>flows_copy: the same columns, daily partitions and indexes as flows.</summary>
    private static async Task PrepareCopyTableAsync(NpgsqlDataSource dataSource, List<FlowRecord> records)
    {
        var days = records.Select(r => FlowPartitions.DayOf(r.TimeFlowEndMs)).Distinct().ToList();
        var sql = new List<string>
        {
            "DROP TABLE IF EXISTS flows_copy",
            "CREATE TABLE flows_copy (LIKE flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (time_end)",
            "CREATE INDEX ON flows_copy (tenant, time_end DESC)",
            "CREATE INDEX ON flows_copy (tenant, src_k8s_namespace, time_end DESC)",
            "CREATE INDEX ON flows_copy (tenant, dst_k8s_namespace, time_end DESC)",
        };
        foreach (var day in days)
        {
            var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var to = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sql.Add($"CREATE TABLE flows_copy_{day:yyyyMMdd} PARTITION OF flows_copy FOR VALUES FROM ('{from}') TO ('{to}')");
        }

        foreach (var statement in sql)
        {
            await using var command = dataSource.CreateCommand(statement);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task TruncateAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "TRUNCATE flows, flows_copy, flow_rollup_1m, flow_rollup_1h; CHECKPOINT");
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
