using NetObserv.Storage;

namespace NetObserv.Testing;

/// <summary>
/// The storage mode the database tests of this assembly run in. The storage and query suites are built
/// twice from the same sources: natively (<c>NetObserv.Storage.Tests</c>, <c>NetObserv.Query.Tests</c>) and
/// in TimescaleDB mode (the <c>*.TimescaleDb</c> projects, which define <c>TIMESCALEDB_TESTS</c>). Fixtures
/// that open a database or start a server take the mode from here. Tests about one mode's own mechanism run in
/// that mode's suite only (<see cref="OneSuiteFactAttribute"/>); the mode selection tests (<c>Modes/</c>), which
/// start servers of their own, are compiled into the native suite only.
/// </summary>
public static class PostgresTestMode
{
    /// <summary>Native partitions, or a TimescaleDB hypertable in the TimescaleDB suites.</summary>
    public static StorageMode Current { get; } =
#if TIMESCALEDB_TESTS
        StorageMode.TimescaleDb;
#else
        StorageMode.Native;
#endif

    /// <summary>True in the TimescaleDB suites.</summary>
    public static bool IsTimescaleDb => Current == StorageMode.TimescaleDb;

    /// <summary>
    /// The <c>Storage:TimescaleDb</c> setting for <see cref="Current"/>: <c>on</c> (so that a server without a
    /// usable TimescaleDB fails the suite instead of falling back to native partitions) or <c>off</c>.
    /// </summary>
    public static string Setting => IsTimescaleDb ? "on" : "off";
}
