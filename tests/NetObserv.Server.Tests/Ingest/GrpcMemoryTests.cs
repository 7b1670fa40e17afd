using Grpc.Core;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>Tests that measure the process's allocations run alone, so other tests' work is not counted.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementGroup
{
    public const string Name = "MemoryMeasurement";
}

/// <summary>What one gRPC message can cost the server's heap.</summary>
[Collection(MemoryMeasurementGroup.Name)]
public sealed class GrpcMemoryTests
{
    [Fact]
    public async Task Send_MillionEmptyRecordsInTwoMegabytes_RefusedBeforeParsingAndHeapBounded()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var body = GrpcHostileInputTests.EmptyRecords(1_000_000);
        // Warm the call path so the measurement below holds only what this message costs.
        await GrpcIngestClient.SendRawAsync(channel, GrpcHostileInputTests.EmptyRecords(0)).DefaultTimeout();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = await Assert.ThrowsAsync<RpcException>(
            () => GrpcIngestClient.SendRawAsync(channel, body).DefaultTimeout());
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("1000000 records", ex.Status.Detail, StringComparison.Ordinal);
        // The body itself is about 2 MB, held by the client and received by the server; parsing the
        // records would take hundreds of megabytes.
        Assert.True(allocated < 64L * 1024 * 1024, $"{allocated:N0} bytes allocated");

        using var other = GrpcIngestClient.Channel(server.GrpcPort);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await new Collector.CollectorClient(other).SendAsync(GrpcIngestClient.Batch(5, 0, endMs))
            .ResponseAsync.DefaultTimeout();
        await Timeouts.WaitUntilAsync(async () => await GrpcHostileInputTests.CountAsync(server) == 5,
            TimeSpan.FromSeconds(10), "5 rows");
    }
}
