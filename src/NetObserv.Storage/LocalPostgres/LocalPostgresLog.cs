using Microsoft.Extensions.Logging;

namespace NetObserv.Storage.LocalPostgres;

internal static partial class LocalPostgresLog
{
    [LoggerMessage(EventId = 2300, EventName = "ManagedPostgresLeftoverFound", Level = LogLevel.Warning,
        Message = "Managed PostgreSQL in {DataDirectory} (pid {PostgresPid}, port {Port}) was left running by process {OwnerPid}, which is gone; stopping it before starting ours")]
    public static partial void LeftoverFound(ILogger logger, string dataDirectory, int ownerPid, int postgresPid, int port);

    [LoggerMessage(EventId = 2301, EventName = "ManagedPostgresDied", Level = LogLevel.Warning,
        Message = "Managed PostgreSQL in {DataDirectory} (pid {PostgresPid}) is not running; restarting it in {Delay} (attempt {Attempt}); ingest keeps queueing meanwhile")]
    public static partial void Died(ILogger logger, string dataDirectory, int postgresPid, TimeSpan delay, int attempt);

    [LoggerMessage(EventId = 2302, EventName = "ManagedPostgresRestartFailed", Level = LogLevel.Warning,
        Message = "Managed PostgreSQL in {DataDirectory} did not restart (attempt {Attempt}); next attempt in {Delay}: {Output}")]
    public static partial void RestartFailed(ILogger logger, string dataDirectory, int attempt, TimeSpan delay, string output);

    [LoggerMessage(EventId = 2303, EventName = "ManagedPostgresRestarted", Level = LogLevel.Information,
        Message = "Managed PostgreSQL in {DataDirectory} restarted on 127.0.0.1:{Port} (pid {PostgresPid}) after {Attempts} attempt(s)")]
    public static partial void Restarted(ILogger logger, string dataDirectory, int port, int postgresPid, int attempts);

    [LoggerMessage(EventId = 2304, EventName = "ManagedPostgresRestartError", Level = LogLevel.Error,
        Message = "Restarting the managed PostgreSQL in {DataDirectory} failed unexpectedly (attempt {Attempt})")]
    public static partial void RestartError(ILogger logger, Exception exception, string dataDirectory, int attempt);

    [LoggerMessage(EventId = 2305, EventName = "DataFolder", Level = LogLevel.Information,
        Message = "Data folder: {DataDirectory} (--data-dir or Storage:DataDirectory to change it)")]
    public static partial void DataFolder(ILogger logger, string dataDirectory);
}
