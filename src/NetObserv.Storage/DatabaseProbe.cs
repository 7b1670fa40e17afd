using System.Net.Sockets;
using Npgsql;

namespace NetObserv.Storage;

/// <summary>
/// Whether the database answers now: <c>SELECT 1</c> on a connection of the shared data source, bounded by
/// <see cref="Timeout"/>. The answer is kept for <see cref="CacheFor"/>, so frequent readiness probes cost the
/// database at most one query a second. Ingest does not depend on it: while the database is unreachable the writer
/// retries and spills, and <c>/ready</c> says why traffic should go elsewhere.
/// </summary>
public sealed class DatabaseProbe : IDisposable
{
    /// <summary>The longest a probe waits for the database.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>How long an answer is reused.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (long At, string? Reason)? _last;

    public DatabaseProbe(NpgsqlDataSource dataSource, TimeProvider time)
    {
        _dataSource = dataSource;
        _time = time;
    }

    /// <summary>Null when the database answers; otherwise why it does not (the driver's or the server's message).</summary>
    public async Task<string?> UnreachableReasonAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } last && _time.GetElapsedTime(last.At) < CacheFor)
            {
                return last.Reason;
            }

            var reason = await ProbeAsync(cancellationToken).ConfigureAwait(false);
            _last = (_time.GetTimestamp(), reason);
            return reason;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"the database did not answer within {Timeout.TotalSeconds:0} s";
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            var inner = e.InnerException is { } cause && cause.Message != e.Message ? " (" + cause.Message + ")" : "";
            return e.Message + inner;
        }
    }

    public void Dispose() => _gate.Dispose();
}
