using Microsoft.Extensions.Logging;

namespace NetObserv.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(EventId = 2001, EventName = "ManagedPostgresStarted", Level = LogLevel.Information,
        Message = "Managed PostgreSQL running in {DataDirectory} on 127.0.0.1:{Port}")]
    public static partial void ManagedPostgresStarted(ILogger logger, string dataDirectory, int port);

    [LoggerMessage(EventId = 2002, EventName = "Migrated", Level = LogLevel.Information,
        Message = "Storage mode {Mode}; {Applied} migration(s) applied")]
    public static partial void Migrated(ILogger logger, StorageMode mode, int applied);
}
