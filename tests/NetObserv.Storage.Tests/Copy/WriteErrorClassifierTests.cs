using System.Net.Sockets;
using NetObserv.Flows;
using NetObserv.Storage.Copy;
using Npgsql;

namespace NetObserv.Storage.Tests.Copy;

public sealed class WriteErrorClassifierTests
{
    [Theory]
    [InlineData("08006", nameof(WriteErrorClass.Unavailable))] // connection failure
    [InlineData("08001", nameof(WriteErrorClass.Unavailable))]
    [InlineData("57P01", nameof(WriteErrorClass.Unavailable))] // admin shutdown
    [InlineData("57P02", nameof(WriteErrorClass.Unavailable))] // crash shutdown
    [InlineData("57P03", nameof(WriteErrorClass.Unavailable))] // cannot connect now
    [InlineData("53100", nameof(WriteErrorClass.Unavailable))] // disk full
    [InlineData("53300", nameof(WriteErrorClass.Unavailable))] // too many connections
    [InlineData("58030", nameof(WriteErrorClass.Unavailable))] // I/O error
    [InlineData("25006", nameof(WriteErrorClass.Unavailable))] // read-only: a standby after a failover
    [InlineData("40001", nameof(WriteErrorClass.Transient))] // serialization failure
    [InlineData("40P01", nameof(WriteErrorClass.Transient))] // deadlock
    [InlineData("55P03", nameof(WriteErrorClass.Transient))] // lock not available
    [InlineData("57014", nameof(WriteErrorClass.Transient))] // statement timeout
    [InlineData("23514", nameof(WriteErrorClass.Transient))] // no partition for the row
    [InlineData("54000", nameof(WriteErrorClass.Data))] // index row too large
    [InlineData("22001", nameof(WriteErrorClass.Data))] // string too long
    [InlineData("22003", nameof(WriteErrorClass.Data))] // numeric out of range
    [InlineData("22021", nameof(WriteErrorClass.Data))] // invalid byte sequence
    [InlineData("22P05", nameof(WriteErrorClass.Data))] // untranslatable character
    [InlineData("23505", nameof(WriteErrorClass.Data))] // unique violation
    [InlineData("42P01", nameof(WriteErrorClass.Data))] // undefined table
    [InlineData("XX000", nameof(WriteErrorClass.Data))] // internal error
    public void Classify_ServerError_BySqlState(string sqlState, string expected)
    {
        var error = new PostgresException("message", "ERROR", "ERROR", sqlState);

        Assert.Equal(expected, WriteErrorClassifier.Classify(error).ToString());
        Assert.Equal(sqlState, WriteErrorClassifier.ReasonOf(error));
    }

    [Fact]
    public void Classify_ClientErrors_ConnectionUnavailableStateTransientValueData()
    {
        Assert.Equal(WriteErrorClass.Unavailable,
            WriteErrorClassifier.Classify(new NpgsqlException("Failed to connect", new SocketException(111))));
        Assert.Equal(WriteErrorClass.Unavailable, WriteErrorClassifier.Classify(new IOException("reset")));
        Assert.Equal(WriteErrorClass.Unavailable, WriteErrorClassifier.Classify(new TimeoutException()));
        Assert.Equal(WriteErrorClass.Unavailable, WriteErrorClassifier.Classify(new SocketException(104)));
        Assert.Equal(WriteErrorClass.Transient, WriteErrorClassifier.Classify(new InvalidOperationException()));
        Assert.Equal(WriteErrorClass.Data, WriteErrorClassifier.Classify(new ArgumentException("bad record")));
        Assert.Equal(WriteErrorClass.Data, WriteErrorClassifier.Classify(new InvalidCastException()));
        Assert.Equal(WriteErrorClass.Data, WriteErrorClassifier.Classify(new OverflowException()));
        Assert.Equal(WriteErrorClassifier.ClientReason, WriteErrorClassifier.ReasonOf(new ArgumentException("bad record")));
    }

    [Fact]
    public void Cut_LongTextSurrogatesAndNul_BoundedValidText()
    {
        Assert.Null(RejectedFlows.Cut(null, 10));
        Assert.Equal("abc", RejectedFlows.Cut("abc", 10));
        Assert.Equal("abcd", RejectedFlows.Cut("abcdefgh", 4));
        // A pair is never cut in two: the high surrogate goes with its partner.
        Assert.Equal("abc", RejectedFlows.Cut("abc\U0001F600", 4));
        Assert.Equal("a\uFFFDb", RejectedFlows.Cut("a\0b", 10));
    }

    [Fact]
    public void Json_HugeRecord_CutAtMaxRecordChars()
    {
        var record = new FlowRecord { Src = { OwnerName = new string('x', 1 << 20) } };

        var json = RejectedFlows.Json(record);

        Assert.NotNull(json);
        Assert.Equal(RejectedFlows.MaxRecordChars, json.Length);
        Assert.StartsWith(FlowRecordJson.ToJson(record)[..100], json, StringComparison.Ordinal);
    }
}
