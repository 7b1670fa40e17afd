using NetObserv.Flows.Pipeline;

namespace NetObserv.Storage;

/// <summary>Storage settings (section <c>Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>
    /// Connection string of an existing PostgreSQL. Defaults to none: the backend starts a managed
    /// local PostgreSQL in <see cref="DataDirectory"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Folder for the managed PostgreSQL (<c>pg/</c> below it) and the spill journal. Defaults to one place whatever
    /// the working directory (<see cref="DefaultDataDirectory()"/>): <c>/var/lib/netobserv</c> for root, else
    /// <c>$XDG_DATA_HOME/netobserv</c>, else <c>~/.local/share/netobserv</c>.
    /// </summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory();

    /// <summary>
    /// <c>auto</c> (TimescaleDB when the server preloads it, else native partitions), <c>on</c> (fail to
    /// start, with PostgreSQL's reason, when TimescaleDB is not usable) or <c>off</c>. Defaults to <c>auto</c>.
    /// </summary>
    public string TimescaleDb { get; set; } = "auto";

    /// <summary>How long flows and the per-minute rollup are kept. Defaults to 7 days.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long the hourly rollup is kept. Defaults to 90 days.</summary>
    public TimeSpan RollupRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long the 5- and 10-minute rollups are kept. Defaults to 30 days.</summary>
    public TimeSpan MidRollupRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Native mode: how many daily partitions exist ahead of today. Defaults to 2.</summary>
    public int PartitionsAhead { get; set; } = 2;

    /// <summary>Rows per COPY batch. Defaults to 10,000.</summary>
    public int BatchSize { get; set; } = 10_000;

    /// <summary>Longest time a record waits before its batch is flushed. Defaults to 1 second.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Writer loops draining the channel concurrently, each with its own connection (COPY of one batch
    /// overlaps the rollup upserts and commit of another). Defaults to 2.
    /// </summary>
    public int Writers { get; set; } = 2;

    /// <summary>
    /// Capacity of the ingest channel in records. Defaults to 50,000 with the journal durability (a batch the
    /// full channel cannot take stays in the journal for the replayer, so a larger channel only keeps more flows
    /// alive on the heap, where the garbage collector copies them) and 200,000 with the memory durability
    /// (where the channel is the only buffer before backpressure). See <see cref="ResolvedChannelCapacity"/>.
    /// </summary>
    public int? ChannelCapacity { get; set; }

    /// <summary>Default <see cref="ChannelCapacity"/> with the journal durability.</summary>
    public const int DefaultJournalChannelCapacity = 50_000;

    /// <summary>The channel capacity in effect: <see cref="ChannelCapacity"/>, else the durability's default.</summary>
    public int ResolvedChannelCapacity => ChannelCapacity
        ?? (DurabilityMode == NetObserv.Storage.Durability.Journal ? DefaultJournalChannelCapacity : FlowChannel.DefaultCapacity);

    /// <summary>
    /// What an acknowledgement promises. <c>journal</c>: every accepted batch is in the write-ahead journal
    /// (fsynced) before it is acknowledged, so it survives a crash of the process. <c>memory</c>: batches
    /// are acknowledged once they are in the ingest channel (faster; lost if the process dies before the
    /// writer commits them). Defaults to <c>journal</c>.
    /// </summary>
    public string Durability { get; set; } = "journal";

    /// <summary>Folder of the write-ahead journal. Defaults to <c>journal/</c> below <see cref="DataDirectory"/>.</summary>
    public string? JournalDirectory { get; set; }

    /// <summary>A journal segment file is closed and a new one begun past this size. Defaults to 64 MiB.</summary>
    public long JournalSegmentBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Largest total size of the journal in bytes; past it ingest answers with backpressure (gRPC
    /// RESOURCE_EXHAUSTED, push 429, UDP drops and counts). 0 turns the journal off (only with
    /// <see cref="Durability"/> <c>memory</c>). The former <c>Storage:SpillMaxBytes</c> is read as this when
    /// this is not set. Defaults to 1 GiB.
    /// </summary>
    public long JournalMaxBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Folder of the former spill journal: <c>*.spill</c> files found there are replayed once and deleted.
    /// Defaults to <c>spill/</c> below <see cref="DataDirectory"/>.
    /// </summary>
    public string? SpillDirectory { get; set; }

    /// <summary>Former name of <see cref="JournalMaxBytes"/>, read as it when that is not set.</summary>
    public long? SpillMaxBytes { get; set; }

    /// <summary>
    /// How long a batch keeps failing because the database is unavailable before the writer gives it
    /// to the journal and waits for the database to answer again. Defaults to 5 seconds.
    /// </summary>
    public TimeSpan SpillAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most rows kept in <c>flows_rejected</c>, the records the database refused for what they hold. Past
    /// it a refused record is only counted (<c>netobserv.storage.rejected_not_kept{reason="full"}</c>) and
    /// logged; storage maintenance also deletes the oldest rows beyond it, and rows older than
    /// <see cref="Retention"/>. 0 keeps none. Defaults to 100,000.
    /// </summary>
    public int RejectedMaxRows { get; set; } = 100_000;

    /// <summary>The default <see cref="DataDirectory"/> for this process's account and environment.</summary>
    public static string DefaultDataDirectory() =>
        DefaultDataDirectory(Environment.IsPrivilegedProcess, Environment.GetEnvironmentVariable("XDG_DATA_HOME"),
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>
    /// <c>/var/lib/netobserv</c> when <paramref name="root"/>; else <c>netobserv</c> below
    /// <paramref name="xdgDataHome"/> when it is an absolute path (the XDG base directory rule), else below
    /// <c>&lt;home&gt;/.local/share</c>.
    /// </summary>
    public static string DefaultDataDirectory(bool root, string? xdgDataHome, string home)
    {
        if (root)
        {
            return "/var/lib/netobserv";
        }

        return !string.IsNullOrEmpty(xdgDataHome) && Path.IsPathRooted(xdgDataHome)
            ? Path.Combine(xdgDataHome, "netobserv")
            : Path.Combine(home, ".local", "share", "netobserv");
    }

    /// <summary>The parsed <see cref="Durability"/>.</summary>
    public Durability DurabilityMode => string.Equals(Durability, "memory", StringComparison.OrdinalIgnoreCase)
        ? NetObserv.Storage.Durability.Memory
        : NetObserv.Storage.Durability.Journal;

    /// <summary>The journal folder in effect: <see cref="JournalDirectory"/>, else <c>journal/</c> below <see cref="DataDirectory"/>.</summary>
    public string ResolvedJournalDirectory =>
        string.IsNullOrWhiteSpace(JournalDirectory) ? Path.Combine(DataDirectory, "journal") : JournalDirectory;

    /// <summary>The spill folder in effect: <see cref="SpillDirectory"/>, else <c>spill/</c> below <see cref="DataDirectory"/>.</summary>
    public string ResolvedSpillDirectory =>
        string.IsNullOrWhiteSpace(SpillDirectory) ? Path.Combine(DataDirectory, "spill") : SpillDirectory;
}
