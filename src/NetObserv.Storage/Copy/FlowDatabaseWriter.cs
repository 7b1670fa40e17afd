using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.Journal;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Rollups;
using NetObserv.Storage.Spill;
using Npgsql;

namespace NetObserv.Storage.Copy;

/// <summary>
/// One write attempt of a part of a batch: the daily partitions it needs (native mode), its dictionary
/// ids, then in one transaction the binary COPY into <c>flow_rows</c>, a binary COPY of the part's
/// per-minute sums into the rollup deltas (<see cref="RollupDeltas"/>; <see cref="RollupCompaction"/> merges
/// them and derives the coarser levels) and the journal positions it carries (<c>journal_applied</c>) or the
/// spill file key it replays (<c>spill_replayed</c>). Writers only append, so they never wait on each other's rows.
/// </summary>
internal sealed class FlowDatabaseWriter(NpgsqlDataSource dataSource, StorageMode mode, FlowPartitions partitions,
    FlowWriterMetrics metrics, TimeProvider time, FlowDictionaries dictionaries)
{
    private readonly FlowDictionaries _dictionaries = dictionaries;
    private long _rowsWritten;
    private long _batches;

    public NpgsqlDataSource DataSource => dataSource;

    public FlowPartitions Partitions => partitions;

    /// <summary>Rows committed since start.</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsWritten);

    /// <summary>Batches (or parts) committed since start.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>
    /// Writes records [start, start + count) of <paramref name="lane"/>'s batch. With a
    /// <paramref name="replayKey"/> the key goes to <c>spill_replayed</c>; with <paramref name="journalId"/>
    /// the <paramref name="positions"/> go to <c>journal_applied</c>, in the same transaction. Returns null
    /// when committed; otherwise nothing is written and it returns what was already recorded (the key, or
    /// the positions already applied): the caller leaves those out.
    /// </summary>
    public async Task<HashSet<long>?> WriteOnceAsync(WriteLane lane, int start, int count, string? replayKey,
        string? journalId, IReadOnlyList<long>? positions, CancellationToken abort)
    {
        var started = time.GetTimestamp();
        var batch = lane.Batch;
        var rollups = lane.Rollups;
        var days = lane.Days;
        rollups.Clear();
        days.Clear();
        var connection = await dataSource.OpenOrAbandonAsync(abort).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Dictionary rows commit on their own, before the batch: a cached id always names a stored row.
            var ids = lane.Ids;
            await _dictionaries.ResolveAsync(connection, batch, start, count, ids, abort).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                var record = batch[start + i];
                var timeEnd = FlowTime.Clamp(record.TimeFlowEndMs);
                rollups.Add(record, timeEnd, ids.Src[i], ids.Dst[i], ids.Context[i]);
                if (mode == StorageMode.Native)
                {
                    AddDay(days, FlowPartitions.DayOf(timeEnd));
                }
            }

            var newRollupKeys = rollups.FoldKnown(_dictionaries);
            if (days.Count > 0)
            {
                await partitions.EnsureAsync(connection, days, abort).ConfigureAwait(false);
            }

            if (newRollupKeys.Count > 0)
            {
                await _dictionaries.ResolveRollupKeysAsync(connection, newRollupKeys, lane.RollupKeyIds, abort)
                    .ConfigureAwait(false);
                rollups.FoldNew(lane.RollupKeyIds, _dictionaries);
            }

            var transaction = await connection.BeginTransactionAsync(abort).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                if (replayKey is not null
                    && !await SpillReplayed.RecordAsync(connection, transaction, replayKey, count, abort)
                        .ConfigureAwait(false))
                {
                    return [];
                }

                if (journalId is not null && positions is { Count: > 0 }
                    && await JournalApplied.RecordAsync(connection, transaction, journalId, positions, abort)
                        .ConfigureAwait(false) is { } already)
                {
                    return already;
                }

                var copied = await FlowCopy.WriteAsync(connection, batch, start, count, lane.Ids, abort)
                    .ConfigureAwait(false);
                if (copied != (ulong)count)
                {
                    throw new InvalidOperationException(
                        $"COPY reported {copied} rows for a batch of {count}");
                }

                var rollupRows = await RollupDeltas.WriteAsync(connection, rollups.Deltas, abort)
                    .ConfigureAwait(false);
                await transaction.CommitAsync(abort).ConfigureAwait(false);

                Interlocked.Add(ref _rowsWritten, count);
                Interlocked.Increment(ref _batches);
                metrics.Written(count, rollupRows, time.GetElapsedTime(started).TotalSeconds);
                return null;
            }
        }
    }

    private static void AddDay(List<DateOnly> days, DateOnly day)
    {
        // Batches span one or two days: a short list beats a set.
        for (var i = days.Count - 1; i >= 0; i--)
        {
            if (days[i] == day)
            {
                return;
            }
        }

        days.Add(day);
    }
}
