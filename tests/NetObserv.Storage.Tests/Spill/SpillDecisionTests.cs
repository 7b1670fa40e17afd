using System.Net.Sockets;
using NetObserv.Storage.Copy;
using Npgsql;

namespace NetObserv.Storage.Tests.Spill;

public sealed class SpillDecisionTests
{
    [Theory]
    [InlineData("08006", true)]
    [InlineData("08001", true)]
    [InlineData("57P01", true)]
    [InlineData("57P03", true)]
    [InlineData("53100", true)]
    [InlineData("53300", true)]
    [InlineData("23514", false)]
    [InlineData("22003", false)]
    [InlineData("42P01", false)]
    [InlineData("40P01", false)]
    public void IsUnavailable_ServerError_OnlyConnectionShutdownAndResourceClasses(string sqlState, bool expected)
    {
        var error = new PostgresException("message", "FATAL", "FATAL", sqlState);

        Assert.Equal(expected, FlowBatchWriter.IsUnavailable(error));
        Assert.False(expected && FlowBatchWriter.IsInvalidData(error), "an outage is never invalid data");
    }

    [Fact]
    public void IsUnavailable_ClientConnectionErrors_True()
    {
        Assert.True(FlowBatchWriter.IsUnavailable(new NpgsqlException("Failed to connect", new SocketException(111))));
        Assert.True(FlowBatchWriter.IsUnavailable(new IOException("reset")));
        Assert.True(FlowBatchWriter.IsUnavailable(new TimeoutException()));
        Assert.False(FlowBatchWriter.IsUnavailable(new InvalidOperationException()));
        Assert.False(FlowBatchWriter.IsUnavailable(new ArgumentException("bad record")));
    }

    [Fact]
    public void ResolvedSpillDirectory_NotSetOrSet_BelowDataDirectoryOrAsGiven()
    {
        var options = new StorageOptions { DataDirectory = "/var/lib/netobserv" };
        Assert.Equal(Path.Combine("/var/lib/netobserv", "spill"), options.ResolvedSpillDirectory);
        Assert.Equal(1L << 30, options.SpillMaxBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), options.SpillAfter);

        options.SpillDirectory = "/mnt/journal";
        Assert.Equal("/mnt/journal", options.ResolvedSpillDirectory);
    }
}
