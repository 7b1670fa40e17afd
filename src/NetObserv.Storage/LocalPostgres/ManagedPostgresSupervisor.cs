using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NetObserv.Storage.LocalPostgres;

/// <summary>
/// Keeps the managed PostgreSQL that this process started running: it checks the postmaster every
/// <see cref="PollInterval"/> and, when it has died (killed, out of memory, crashed), starts it again on the same
/// port and data folder, waiting <see cref="FirstDelay"/> before the first attempt and doubling up to
/// <see cref="MaxDelay"/> between failed ones (a killed postmaster's children may hold its shared memory for a
/// moment). Every attempt is logged. Ingest goes on meanwhile: the writer retries and spills while the database
/// is unreachable. Nothing to do for an external database or a server another process started.
/// Registered before the writer, so it stops after the writer has drained at shutdown; the server itself is
/// stopped when <see cref="FlowDatabase"/> is disposed.
/// </summary>
public sealed class ManagedPostgresSupervisor : IHostedService, IDisposable
{
    /// <summary>The wait before the first restart attempt.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>How often the postmaster is checked.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly ManagedPostgres? _server;
    private readonly TimeProvider _time;
    private readonly ILogger<ManagedPostgresSupervisor> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private long _restarts;

    public ManagedPostgresSupervisor(FlowDatabase database, TimeProvider time, ILogger<ManagedPostgresSupervisor> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        _server = database.Managed is { StartedHere: true } managed ? managed : null;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many times the server was started again.</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            _loop = Task.Run(() => SuperviseAsync(_server, _stopping.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SuperviseAsync(ManagedPostgres server, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
                if (!server.IsRunning && !server.Stopping)
                {
                    await RestartAsync(server, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RestartAsync(ManagedPostgres server, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        LocalPostgresLog.Died(_logger, server.DataDirectory, server.PostmasterPid, delay, 1);
        for (var attempt = 1; ; attempt++)
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            if (server.Stopping)
            {
                return;
            }

            var next = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            try
            {
                // Not cancelled once begun: a start cut short could leave a server nobody stops.
                var (started, output) = await server.StartServerAsync(CancellationToken.None).ConfigureAwait(false);
                if (started)
                {
                    Interlocked.Increment(ref _restarts);
                    LocalPostgresLog.Restarted(_logger, server.DataDirectory, server.Port, server.PostmasterPid, attempt);
                    return;
                }

                LocalPostgresLog.RestartFailed(_logger, server.DataDirectory, attempt, next, output.Trim());
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LocalPostgresLog.RestartError(_logger, e, server.DataDirectory, attempt);
            }

            delay = next;
        }
    }

    public void Dispose() => _stopping.Dispose();
}
