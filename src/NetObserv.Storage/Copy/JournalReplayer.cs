using System.Globalization;
using Microsoft.Extensions.Logging;
using NetObserv.Storage.Journal;
using NetObserv.Storage.Spill;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Writes what is in the journal but in no writer lane's memory, beside the lanes:
/// <list type="bullet">
/// <item>At start, it asks <c>journal_applied</c> what the database holds (retrying until the database
/// answers) and turns every other batch the previous run left into pending work; <see cref="Recovered"/>
/// completes once that is replayed, and the lanes wait for it, so old batches are written before new
/// ones.</item>
/// <item>Pending batches (the channel was full, the database was down, a lane gave its batch up during an
/// outage) are read back oldest first, grouped up to a batch size, and written through the same
/// <see cref="FlowDatabaseWriter"/> with their positions, exactly once: a group whose positions are
/// already recorded is skipped.</item>
/// <item>While an outage is under way (<see cref="IsOutage"/>), it probes the database once per interval
/// and ends the outage when it answers.</item>
/// <item><c>*.spill</c> files of the former spill journal are replayed once (each recorded in
/// <c>spill_replayed</c>), then deleted; a file that cannot be read goes to <c>bad/</c>.</item>
/// <item>Once a second it folds <c>journal_applied</c> up to the journal's watermark into one row.</item>
/// </list>
/// A batch the database refuses for what it holds is split like a live batch; refused records go to
/// <c>flows_rejected</c>.
/// </summary>
internal sealed class JournalReplayer(
    FlowDatabaseWriter database,
    FlowJournal? journal,
    SpillJournal? spill,
    RejectedFlows rejected,
    WriterCounters counters,
    FlowWriterMetrics metrics,
    int batchSize,
    TimeSpan probeInterval,
    TimeProvider time,
    ILogger logger)
{
    private const int TransientAttempts = 5;
    private static readonly TimeSpan s_idle = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_compactEvery = TimeSpan.FromSeconds(1);

    private readonly TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _outage;
    private long _compactedThrough;
    private long _recoveryTarget;
    private long _replayedBatches;
    private long _replayedRows;

    /// <summary>Completes once what the previous run left in the journal is written (or at stop).</summary>
    public Task Recovered => _recovered.Task;

    /// <summary>True while the database is considered unavailable.</summary>
    public bool IsOutage => Volatile.Read(ref _outage) != 0;

    /// <summary>Starts an outage (once): the probe ends it.</summary>
    public bool StartOutage() => Interlocked.Exchange(ref _outage, 1) == 0;

    /// <summary>Runs until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var lane = new WriteLane(Math.Min(batchSize, 100_000));
        var failures = 0;
        var lastCompact = time.GetTimestamp();
        try
        {
            if (journal is not null)
            {
                await RecoverAsync(stop).ConfigureAwait(false);
            }
            else
            {
                _recovered.TrySetResult();
            }

            while (!stop.IsCancellationRequested)
            {
                if (IsOutage)
                {
                    if (!await OutageProbe.ProbeAsync(database.DataSource, stop).ConfigureAwait(false))
                    {
                        await Task.Delay(probeInterval, time, stop).ConfigureAwait(false);
                        continue;
                    }

                    Volatile.Write(ref _outage, 0);
                    StorageLog.SpillStopped(logger, journal?.PendingBatches ?? 0, journal?.Bytes ?? 0);
                }

                var worked = false;
                var failed = false;
                if (spill is { Files: > 0 })
                {
                    (worked, failed) = await ReplaySpillFilesAsync(spill, lane, stop).ConfigureAwait(false);
                }

                if (!failed && journal is not null)
                {
                    var (did, fail) = await ReplayPendingAsync(journal, lane, stop).ConfigureAwait(false);
                    worked |= did;
                    failed |= fail;
                    // Recovered once nothing the previous run left is pending (new overflow may be, meanwhile).
                    if (!Recovered.IsCompleted && journal.OldestPending > Volatile.Read(ref _recoveryTarget) && !fail)
                    {
                        _recovered.TrySetResult();
                        if (_replayedBatches > 0)
                        {
                            JournalLog.Replayed(logger, _replayedRows, _replayedBatches);
                        }
                    }

                    if (time.GetElapsedTime(lastCompact) >= s_compactEvery)
                    {
                        lastCompact = time.GetTimestamp();
                        await CompactAsync(journal, stop).ConfigureAwait(false);
                    }
                }

                failures = failed ? failures + 1 : 0;
                if (failed)
                {
                    var backoff = FlowBatchWriter.Backoff(failures);
                    await Task.Delay(backoff > probeInterval ? backoff : probeInterval, time, stop).ConfigureAwait(false);
                }
                else if (!worked)
                {
                    await Task.Delay(s_idle, time, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutdown: a group being replayed was rolled back and stays in the journal.
        }
        finally
        {
            _recovered.TrySetResult();
        }
    }

    private async Task RecoverAsync(CancellationToken stop)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (through, above) = await JournalApplied.ReadAsync(database.DataSource, journal!.Id, stop)
                    .ConfigureAwait(false);
                Volatile.Write(ref _recoveryTarget, journal.LastPosition);
                var pending = journal.Recover(through, above);
                Volatile.Write(ref _compactedThrough, through);
                JournalLog.Recovered(logger, journal.Id, through, pending);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                var delay = FlowBatchWriter.Backoff(attempt);
                StorageLog.BatchFailed(logger, e, 0, attempt, delay);
                await Task.Delay(delay, time, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task CompactAsync(FlowJournal journal, CancellationToken stop)
    {
        var watermark = journal.Watermark;
        if (watermark <= Volatile.Read(ref _compactedThrough) || journal.Recovering)
        {
            return;
        }

        try
        {
            await JournalApplied.CompactAsync(database.DataSource, journal.Id, watermark, stop).ConfigureAwait(false);
            Volatile.Write(ref _compactedThrough, watermark);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            // Tried again next time; the rows below the watermark stay correct meanwhile.
            StorageLog.MaintenanceFailed(logger, e, s_compactEvery);
        }
    }

    /// <summary>Writes one group of pending journal batches. Returns (did work, failed).</summary>
    private async Task<(bool, bool)> ReplayPendingAsync(FlowJournal journal, WriteLane lane, CancellationToken stop)
    {
        var positions = new List<long>();
        if (journal.TakePending(batchSize, positions) == 0)
        {
            return (false, false);
        }

        lane.Clear();
        var readable = new List<long>(positions.Count);
        foreach (var position in positions)
        {
            try
            {
                journal.Read(position, lane.Batch);
                lane.Positions.Add((position, lane.Batch.Count));
                readable.Add(position);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // Checked when written and on open: this is a disk fault. Skip it rather than block the rest.
                JournalLog.BadRecord(logger, e, position);
                journal.MarkApplied([position]);
            }
        }

        try
        {
            await WriteGroupAsync(lane, readable, stop).ConfigureAwait(false);
            rejected.LogAndClear(lane.Rejections, lane.Batch.Count, "journal batches");
            journal.MarkApplied(readable);
            _replayedBatches += readable.Count;
            _replayedRows += lane.Batch.Count;
            return (true, false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            counters.WriteError();
            metrics.Error();
            JournalLog.ReplayFailed(logger, e, readable.Count);
            foreach (var position in readable)
            {
                journal.Release(position);
            }

            return (false, true);
        }
        catch (OperationCanceledException)
        {
            foreach (var position in readable)
            {
                journal.Release(position);
            }

            throw;
        }
        finally
        {
            lane.Clear();
            lane.Rejections.Clear();
        }
    }

    /// <summary>The whole group in one transaction; batches already applied are left out, one by one if need be.</summary>
    private async Task WriteGroupAsync(WriteLane lane, List<long> positions, CancellationToken stop)
    {
        var count = lane.Batch.Count;
        var already = await TryWholeAsync(lane, 0, count, positions, stop).ConfigureAwait(false);
        if (already is null)
        {
            return;
        }

        // Some were committed before (a crash between commit and the in-memory mark): write the others alone.
        var begin = 0;
        foreach (var (position, end) in lane.Positions)
        {
            if (!already.Contains(position))
            {
                await WritePartAsync(lane, begin, end - begin, null, stop).ConfigureAwait(false);
            }

            begin = end;
        }
    }

    private async Task<HashSet<long>?> TryWholeAsync(WriteLane lane, int start, int count, List<long> positions,
        CancellationToken stop)
    {
        try
        {
            var already = await database.WriteOnceAsync(lane, start, count, null, journal!.Id, positions, stop)
                .ConfigureAwait(false);
            if (already is null)
            {
                counters.Replayed(count);
                metrics.Replayed(count);
            }

            return already;
        }
        catch (Exception e) when (e is not OperationCanceledException
            && WriteErrorClassifier.Classify(e) != WriteErrorClass.Unavailable)
        {
            counters.WriteError();
            metrics.Error();
            await WritePartAsync(lane, start, count, null, stop).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// Writes records [start, start + count) in one transaction, splitting around records the database
    /// refuses. With a spill file <paramref name="id"/> each part is keyed in <c>spill_replayed</c>
    /// (<c>{id}#{start}+{count}</c> for a part); else the journal positions wholly inside the part go to
    /// <c>journal_applied</c>. Returns the rows written, or -1 when the part had already been written. An
    /// unavailable database propagates.
    /// </summary>
    public async Task<int> WritePartAsync(WriteLane lane, int start, int count, string? id, CancellationToken stop)
    {
        var whole = start == 0 && count == lane.Batch.Count;
        var key = id is null ? null : whole ? id : string.Create(CultureInfo.InvariantCulture, $"{id}#{start}+{count}");
        var positions = id is null && journal is not null ? lane.PositionsWithin(start, count) : null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var already = await database.WriteOnceAsync(lane, start, count, key, journal?.Id, positions, stop)
                    .ConfigureAwait(false);
                if (already is not null)
                {
                    return whole ? -1 : 0;
                }

                counters.Replayed(count);
                metrics.Replayed(count);
                return count;
            }
            catch (Exception e) when (e is not OperationCanceledException
                && WriteErrorClassifier.Classify(e) is var kind && kind != WriteErrorClass.Unavailable)
            {
                counters.WriteError();
                metrics.Error();
                if (kind == WriteErrorClass.Transient && attempt < TransientAttempts)
                {
                    await Task.Delay(FlowBatchWriter.Backoff(attempt), time, stop).ConfigureAwait(false);
                    continue;
                }

                if (count == 1)
                {
                    if (await rejected.RejectAsync(lane.Rejections, lane.Batch[start], e, key, stop).ConfigureAwait(false))
                    {
                        counters.Rejected();
                    }

                    return 0;
                }

                StorageLog.BatchSplit(logger, e, count);
                var half = count / 2;
                var first = await WritePartAsync(lane, start, half, id, stop).ConfigureAwait(false);
                var second = await WritePartAsync(lane, start + half, count - half, id, stop).ConfigureAwait(false);
                return first + second;
            }
        }
    }

    /// <summary>Replays the former spill journal's files, oldest first. Returns (did work, failed).</summary>
    private async Task<(bool, bool)> ReplaySpillFilesAsync(SpillJournal files, WriteLane lane, CancellationToken stop)
    {
        var replayed = 0;
        foreach (var file in files.List())
        {
            if (stop.IsCancellationRequested || IsOutage)
            {
                break;
            }

            if (!await ReplayFileAsync(files, lane, file, stop).ConfigureAwait(false))
            {
                return (replayed > 0, true);
            }

            replayed++;
        }

        if (replayed > 0 && files.Files == 0)
        {
            StorageLog.SpillJournalReplayed(logger, counters.RowsReplayed, counters.BadSpillFiles);
        }

        return (replayed > 0, false);
    }

    /// <summary>
    /// Writes one spill file and deletes it. False when the database failed (the file stays for the
    /// next attempt); a file that cannot be read is moved to <c>bad/</c> and true is returned.
    /// </summary>
    private async Task<bool> ReplayFileAsync(SpillJournal files, WriteLane lane, string file, CancellationToken stop)
    {
        lane.Clear();
        var batch = lane.Batch;
        var id = SpillJournal.IdOf(file);
        try
        {
            SpillJournal.Read(file, batch);
        }
        catch (InvalidDataException e)
        {
            try
            {
                var target = files.Quarantine(file);
                counters.BadSpillFile();
                metrics.BadFile();
                StorageLog.SpillBadFile(logger, e, file, target);
                return true;
            }
            catch (Exception move) when (move is IOException or UnauthorizedAccessException)
            {
                StorageLog.SpillReplayFailed(logger, move, file);
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            StorageLog.SpillReplayFailed(logger, e, file);
            return false;
        }

        try
        {
            var rows = await WritePartAsync(lane, 0, batch.Count, id, stop).ConfigureAwait(false);
            rejected.LogAndClear(lane.Rejections, batch.Count, file);
            files.Remove(file);
            if (rows >= 0)
            {
                StorageLog.SpillReplayed(logger, file, rows);
            }
            else
            {
                StorageLog.SpillAlreadyReplayed(logger, file);
            }

            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            counters.WriteError();
            metrics.Error();
            StorageLog.SpillReplayFailed(logger, e, file);
            return false;
        }
        finally
        {
            lane.Clear();
            lane.Rejections.Clear();
        }
    }
}
