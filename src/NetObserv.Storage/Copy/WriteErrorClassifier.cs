using System.Net.Sockets;
using Npgsql;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Sorts the errors of a batch write into <see cref="WriteErrorClass"/>. Only unavailability may hold
/// rows back for long (in memory, then in the spill journal); anything the database says about the rows
/// themselves is a data error of the rows that caused it, never a reason to stop writing the others.
/// </summary>
internal static class WriteErrorClassifier
{
    /// <summary>The reason given for a row refused by the client (no SQLSTATE), e.g. a value it cannot encode.</summary>
    public const string ClientReason = "client";

    public static WriteErrorClass Classify(Exception error) => error switch
    {
        PostgresException pg => Classify(pg.SqlState),
        NpgsqlException or IOException or TimeoutException or SocketException => WriteErrorClass.Unavailable,
        InvalidOperationException or ObjectDisposedException or OutOfMemoryException or OperationCanceledException
            => WriteErrorClass.Transient,
        _ => WriteErrorClass.Data,
    };

    /// <summary>
    /// Unavailable: class 08 (connection exception), 53 (insufficient resources: disk full, memory,
    /// connections), 58 (system error: I/O), 57P0x (shutdown, crash, starting, database dropped, session
    /// closed) and 25006 (read-only transaction: a standby after a failover). Transient: class 40
    /// (serialization failure, deadlock), 55P03/55006 (lock not available, object in use), 57014 (statement
    /// timeout or cancel) and 23514 (no partition for the row: one was dropped under the writer). Anything
    /// else (22 data exception, 23 constraint, 54 program limit such as an index row too large, 42 ...)
    /// is a data error.
    /// </summary>
    public static WriteErrorClass Classify(string sqlState) => sqlState switch
    {
        ['0', '8', ..] or ['5', '3', ..] or ['5', '8', ..] or ['5', '7', 'P', '0', _] or "25006"
            => WriteErrorClass.Unavailable,
        ['4', '0', ..] or "55P03" or "55006" or "57014" or PostgresErrorCodes.CheckViolation
            => WriteErrorClass.Transient,
        _ => WriteErrorClass.Data,
    };

    /// <summary>The SQLSTATE of <paramref name="error"/>, or <see cref="ClientReason"/> when it did not come from the server.</summary>
    public static string ReasonOf(Exception error) => error is PostgresException pg ? pg.SqlState : ClientReason;
}
