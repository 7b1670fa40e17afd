namespace NetObserv.Storage.Tests.Spill;

public sealed class SpillDecisionTests
{
    [Fact]
    public void ResolvedSpillDirectory_NotSetOrSet_BelowDataDirectoryOrAsGiven()
    {
        var options = new StorageOptions { DataDirectory = "/var/lib/netobserv" };
        Assert.Equal(Path.Combine("/var/lib/netobserv", "spill"), options.ResolvedSpillDirectory);
        Assert.Equal(1L << 30, options.JournalMaxBytes);
        Assert.Null(options.SpillMaxBytes);
        Assert.Equal(Path.Combine("/var/lib/netobserv", "journal"), options.ResolvedJournalDirectory);
        Assert.Equal(TimeSpan.FromSeconds(5), options.SpillAfter);
        Assert.Equal(100_000, options.RejectedMaxRows);

        options.SpillDirectory = "/mnt/journal";
        Assert.Equal("/mnt/journal", options.ResolvedSpillDirectory);
    }
}
