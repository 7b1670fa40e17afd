using System.Diagnostics.Metrics;

namespace NetObserv.Storage.Copy;

/// <summary>The batch writer's instruments (meter <c>NetObserv.Storage</c>).</summary>
internal sealed class FlowWriterMetrics
{
    public const string MeterName = "NetObserv.Storage";

    private readonly Counter<long> _rows;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _notKept;
    private readonly Counter<long> _rollupRows;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _spilled;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _badFiles;

    public FlowWriterMetrics(IMeterFactory meterFactory, Func<int> pending, Func<long> spillBytes)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(new MeterOptions(MeterName));
        _rows = meter.CreateCounter<long>("netobserv.storage.rows_written", "{row}",
            "Flow rows committed to the flows table");
        _batches = meter.CreateCounter<long>("netobserv.storage.batches", "{batch}",
            "Batches committed (COPY of the rows and of their per-minute rollup deltas in one transaction)");
        _errors = meter.CreateCounter<long>("netobserv.storage.write_errors", "{error}",
            "Failed batch write attempts (each is retried)");
        _rejected = meter.CreateCounter<long>("netobserv.storage.rows_rejected", "{row}",
            "Flow records the database refused for what they hold (tag sqlstate; kept in flows_rejected)");
        _notKept = meter.CreateCounter<long>("netobserv.storage.rejected_not_kept", "{row}",
            "Refused flow records not kept in flows_rejected (tag reason: full, failed)");
        _rollupRows = meter.CreateCounter<long>("netobserv.storage.rollup_rows", "{row}",
            "Per-minute rollup delta rows appended (merged into the rollup levels every few seconds)");
        _duration = meter.CreateHistogram<double>("netobserv.storage.batch_duration", "s",
            "Time to write one batch, from connection to commit");
        meter.CreateObservableGauge("netobserv.storage.pending_rows", pending, "{row}",
            "Flow records waiting for the writer");
        _spilled = meter.CreateCounter<long>("netobserv.storage.rows_spilled", "{row}",
            "Flow rows written to the spill journal while the database was unavailable");
        _replayed = meter.CreateCounter<long>("netobserv.storage.rows_replayed", "{row}",
            "Flow rows from the spill journal committed to the database");
        _badFiles = meter.CreateCounter<long>("netobserv.storage.spill_bad_files", "{file}",
            "Spill files that could not be read (moved to bad/)");
        meter.CreateObservableGauge("netobserv.storage.spill_bytes", spillBytes, "By",
            "Size of the spill journal waiting to be replayed");
    }

    public void Written(int rows, int rollupRows, double seconds)
    {
        _rows.Add(rows);
        _batches.Add(1);
        _rollupRows.Add(rollupRows);
        _duration.Record(seconds);
    }

    public void Error() => _errors.Add(1);

    public void Rejected(string sqlState) => _rejected.Add(1, new KeyValuePair<string, object?>("sqlstate", sqlState));

    public void NotKept(string reason) => _notKept.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Spilled(int rows) => _spilled.Add(rows);

    public void Replayed(int rows) => _replayed.Add(rows);

    public void BadFile() => _badFiles.Add(1);
}
