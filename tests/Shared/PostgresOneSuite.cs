using NetObserv.Storage;

namespace NetObserv.Testing;

/// <summary>
/// A fact that runs in one suite only: the suite of storage mode <c>runsIn</c> (see <see cref="PostgresTestMode"/>);
/// the other suite skips it, saying <c>because</c>. For tests about one mode's own mechanism (native daily
/// partitions, TimescaleDB's policies).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneSuiteFactAttribute : FactAttribute
{
    public OneSuiteFactAttribute(StorageMode runsIn, string because) => Skip = OneSuite.SkipReason(runsIn, because);
}

internal static class OneSuite
{
    public static string? SkipReason(StorageMode runsIn, string because) =>
        PostgresTestMode.Current == runsIn ? null : $"runs in the {runsIn} suite only: {because}";
}
