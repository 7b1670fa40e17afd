using Grpc.Core;
using Grpc.Net.Client;
using NetObserv.Query.Grpc.V1;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Query;

/// <summary>The gRPC query API's answer-size limit (<c>Query:MaxResponseBytes</c>) and its listener per role.</summary>
public sealed class QueryGrpcLimitsTests : IClassFixture<QueryLimitsFixture>
{
    private readonly QueryLimitsFixture _fixture;

    public QueryGrpcLimitsTests(QueryLimitsFixture fixture)
    {
        _fixture = fixture;
    }

    private static TimeRange Range(int fromMinute, int toMinute) => new()
    {
        StartUnixNano = (QueryTestFlows.OriginMs + (fromMinute * 60_000L)) * 1_000_000,
        EndUnixNano = (QueryTestFlows.OriginMs + (toMinute * 60_000L)) * 1_000_000,
    };

    [Fact]
    public async Task QueryRange_AnswerPastMaxResponseBytes_InvalidArgumentNamingTheLimit()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_fixture.Server.QueryGrpcPort}");
        var client = new QueryService.QueryServiceClient(channel);

        // 1 s steps over 30 minutes by destination namespace: hundreds of kilobytes.
        var error = await Assert.ThrowsAsync<RpcException>(() => client.QueryRangeAsync(new RangeQueryRequest
        {
            Query = "sum by (DstK8S_Namespace) (count_over_time({app=\"netobserv-flowcollector\"} [1m]))",
            Range = Range(0, 31),
            StepMs = 1000,
        }).ResponseAsync).DefaultTimeout();
        var small = await client.QueryRangeAsync(new RangeQueryRequest
        {
            Query = "sum(count_over_time({app=\"netobserv-flowcollector\"} [1m]))",
            Range = Range(0, 31),
            StepMs = 60_000,
        }).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("Query:MaxResponseBytes", error.Status.Detail, StringComparison.Ordinal);
        Assert.Single(small.Matrix.Series);
    }

    [Fact]
    public async Task Start_RoleIngest_NoQueryListener()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Server:Role"] = "ingest" });

        Assert.Equal(0, server.QueryGrpcPort);
        Assert.NotEqual(0, server.GrpcPort);
    }
}
