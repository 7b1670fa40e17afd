namespace NetObserv.Storage.Rollups;

/// <summary>
/// One rollup table: its name, the width of its buckets and the setting that says how long its rows
/// are kept. Every level has the columns and key of <c>flow_rollup_1m</c>; the ingest path adds each
/// batch to every level, and the query planner reads the coarsest level whose buckets divide the
/// step and the range.
/// </summary>
public sealed class RollupLevel
{
    private readonly Func<StorageOptions, TimeSpan> _retention;

    private RollupLevel(string table, long widthMs, Func<StorageOptions, TimeSpan> retention, bool hasRows = true)
    {
        Table = table;
        WidthMs = widthMs;
        _retention = retention;
        HasRows = hasRows;
    }

    /// <summary>Per minute, kept as long as the flows (<see cref="StorageOptions.Retention"/>).</summary>
    public static RollupLevel Minute { get; } = new("flow_rollup_1m", 60_000, o => o.Retention);

    /// <summary>Per 5 minutes, kept for <see cref="StorageOptions.MidRollupRetention"/>.</summary>
    public static RollupLevel FiveMinutes { get; } = new("flow_rollup_5m", 300_000, o => o.MidRollupRetention);

    /// <summary>Per 10 minutes, kept for <see cref="StorageOptions.MidRollupRetention"/>.</summary>
    public static RollupLevel TenMinutes { get; } = new("flow_rollup_10m", 600_000, o => o.MidRollupRetention, hasRows: false);

    /// <summary>Per hour, kept for <see cref="StorageOptions.RollupRetention"/>.</summary>
    public static RollupLevel Hour { get; } = new("flow_rollup_1h", 3_600_000, o => o.RollupRetention);

    /// <summary>All levels, finest first; each width divides the next.</summary>
    public static IReadOnlyList<RollupLevel> All { get; } = [Minute, FiveMinutes, TenMinutes, Hour];

    /// <summary>The levels with rows of their own (<see cref="RowsTable"/>); the others' views sum a finer level.</summary>
    public static IReadOnlyList<RollupLevel> Stored { get; } = [.. All.Where(l => l.HasRows)];

    /// <summary>
    /// The name of the view with the level's readable columns (a constant of this class, never from input).
    /// </summary>
    public string Table { get; }

    /// <summary>
    /// The table holding the level's rows: bucket, key id into <c>flow_rollup_keys</c>, sums (only where
    /// <see cref="HasRows"/>: the 10-minute view sums the 5-minute rows).
    /// </summary>
    public string RowsTable => HasRows ? Table + "_rows" : throw new InvalidOperationException(Table + " has no rows table");

    /// <summary>True when the level keeps rows of its own; false when its view sums a finer level's.</summary>
    public bool HasRows { get; }

    /// <summary>Bucket width in milliseconds; a bucket starts at a multiple of it since the Unix epoch.</summary>
    public long WidthMs { get; }

    /// <summary>How long this level's rows are kept under <paramref name="options"/>.</summary>
    public TimeSpan Retention(StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _retention(options);
    }

    public override string ToString() => Table;
}
