namespace NetObserv.Storage.Copy;

/// <summary>Unix epoch times as the database stores them (UTC <c>timestamptz</c>), clamped to what .NET can represent.</summary>
internal static class FlowTime
{
    /// <summary>0001-01-01T00:00:00Z.</summary>
    public const long MinMs = -62_135_596_800_000;

    /// <summary>9999-12-30T23:59:59.999Z (so the partition of any clamped time has an upper bound).</summary>
    public const long MaxMs = 253_402_214_399_999;

    /// <summary>Clamps a Unix epoch millisecond time into the representable range.</summary>
    public static long Clamp(long unixMs) => Math.Clamp(unixMs, MinMs, MaxMs);

    /// <summary>A UTC <see cref="DateTime"/> for a Unix epoch millisecond time (clamped).</summary>
    public static DateTime ToUtc(long unixMs) =>
        DateTime.UnixEpoch.AddTicks((Clamp(unixMs) * TimeSpan.TicksPerMillisecond));

    /// <summary>A UTC <see cref="DateTime"/> for a Unix epoch second time (clamped).</summary>
    public static DateTime SecondsToUtc(long unixSeconds) =>
        ToUtc(unixSeconds is > MaxMs / 1000 or < MinMs / 1000 ? (unixSeconds < 0 ? MinMs : MaxMs) : unixSeconds * 1000);
}
