using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using NetObserv.Query.Grpc.V1;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Query;

/// <summary>The gRPC query API on its own port, against the Loki HTTP API and sums over the same flows.</summary>
public sealed class QueryGrpcApiTests : IClassFixture<QueryApiFixture>, IDisposable
{
    private const long StepMs = 60_000;
    private readonly QueryApiFixture _fixture;
    private readonly GrpcChannel _channel;
    private readonly QueryService.QueryServiceClient _client;

    public QueryGrpcApiTests(QueryApiFixture fixture)
    {
        _fixture = fixture;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{fixture.Server.QueryGrpcPort}");
        _client = new QueryService.QueryServiceClient(_channel);
    }

    public void Dispose() => _channel.Dispose();

    private static long Ms(int minutes) => QueryTestFlows.OriginMs + (minutes * 60_000L);

    private static TimeRange Range(int fromMinute, int toMinute) =>
        new() { StartUnixNano = Ms(fromMinute) * 1_000_000, EndUnixNano = Ms(toMinute) * 1_000_000 };

    private static bool Kept(QueryTestFlow f) => QueryTestFlows.Kept(f);

    private async Task<JsonElement> LokiMatrixAsync(string query, int fromMinute, int toMinute)
    {
        var url = string.Create(CultureInfo.InvariantCulture,
            $"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={Ms(fromMinute) * 1_000_000}&end={Ms(toMinute) * 1_000_000}&step={StepMs}ms");
        using var response = await _fixture.Server.Http.GetAsync(new Uri(url, UriKind.Relative)).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.IsSuccessStatusCode, body);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    private static Dictionary<string, Dictionary<long, double>> ByLabels(JsonElement lokiResult) =>
        lokiResult.EnumerateArray().ToDictionary(
            s => string.Join(",", s.GetProperty("metric").EnumerateObject().Select(p => p.Name + "=" + p.Value.GetString())),
            s => s.GetProperty("values").EnumerateArray().ToDictionary(
                v => (long)Math.Round(v[0].GetDouble() * 1000),
                v => double.Parse(v[1].GetString()!, CultureInfo.InvariantCulture)));

    private static Dictionary<string, Dictionary<long, double>> ByLabels(Matrix matrix) =>
        matrix.Series.ToDictionary(
            s => string.Join(",", s.Labels.Select(l => l.Name + "=" + l.Value)),
            s => s.TimestampsMs.Zip(s.Values).ToDictionary(p => p.First, p => p.Second));

    [Fact]
    public async Task QueryRange_MetricQuery_SameMatrixAsTheLokiApi()
    {
        const string Query = "sum by (DstK8S_Namespace) (count_over_time({app=\"netobserv-flowcollector\"} [1m]))";

        var response = await _client.QueryRangeAsync(new RangeQueryRequest
        {
            Query = Query,
            Range = Range(0, 31),
            StepMs = StepMs,
        }).ResponseAsync.DefaultTimeout();

        Assert.Equal(RangeQueryResponse.ResultOneofCase.Matrix, response.ResultCase);
        var expected = ByLabels(await LokiMatrixAsync(Query, 0, 31));
        var actual = ByLabels(response.Matrix);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (labels, points) in expected)
        {
            Assert.Equal(points.OrderBy(p => p.Key), actual[labels].OrderBy(p => p.Key));
        }
    }

    [Fact]
    public async Task QueryRange_LogQuery_StreamsNewestFirstWithinTheLimit()
    {
        var response = await _client.QueryRangeAsync(new RangeQueryRequest
        {
            Query = "{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-b\"}",
            Range = Range(0, 31),
            Limit = 25,
        }).ResponseAsync.DefaultTimeout();

        Assert.Equal(RangeQueryResponse.ResultOneofCase.Streams, response.ResultCase);
        var entries = response.Streams.Streams.SelectMany(s => s.Entries).ToList();
        Assert.Equal(25, entries.Count);
        var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.SrcNamespace == "ns-b")
            .Select(f => f.EndMs).OrderDescending().Take(25).ToList();
        Assert.Equal(expected, entries.Select(e => e.TimestampUnixNano / 1_000_000).OrderDescending());
        Assert.All(entries, e => Assert.Contains("\"SrcK8S_Namespace\":\"ns-b\"", e.Line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task QueryVolumetry_BytesBySourceNamespace_SumsOfKeptFlowsPerWindow()
    {
        var response = await _client.QueryVolumetryAsync(new VolumetryRequest
        {
            Range = Range(1, 31),
            StepMs = StepMs,
            GroupBy = GroupBy.Namespace,
            Metric = Metric.Bytes,
            Side = Side.Source,
        }).ResponseAsync.DefaultTimeout();

        // The same LogQL through the Loki API gives the same matrix.
        Assert.Contains("unwrap SampledBytes", response.ExecutedQuery, StringComparison.Ordinal);
        var loki = ByLabels(await LokiMatrixAsync(response.ExecutedQuery, 1, 31));
        var actual = ByLabels(response.Matrix);
        Assert.Equal(loki.Keys.Order(), actual.Keys.Order());

        // And the sums over the flows: bytes of kept flows of the tenant ending in (t - step, t], per second.
        foreach (var ns in QueryTestFlows.Namespaces)
        {
            var points = actual["SrcK8S_Namespace=" + ns];
            Assert.Equal(loki["SrcK8S_Namespace=" + ns].OrderBy(p => p.Key), points.OrderBy(p => p.Key));
            for (var k = 1; k <= 31; k++)
            {
                var t = Ms(k);
                Assert.Equal(QueryTestFlows.SourceBytesRate(_fixture.Flows, ns, t, StepMs), points.GetValueOrDefault(t), 6);
            }
        }
    }

    [Fact]
    public async Task QueryVolumetry_FlowsByDestinationWorkloadFiltered_OnlyThatNamespace()
    {
        var response = await _client.QueryVolumetryAsync(new VolumetryRequest
        {
            Range = Range(1, 31),
            StepMs = StepMs,
            GroupBy = GroupBy.Workload,
            Metric = Metric.Flows,
            Side = Side.Destination,
            Filters = new FlowFilters { DstNamespace = "ns-c" },
        }).ResponseAsync.DefaultTimeout();

        var actual = ByLabels(response.Matrix);
        Assert.Equal(["DstK8S_Namespace=ns-c,DstK8S_OwnerName=db", "DstK8S_Namespace=ns-c,DstK8S_OwnerName=web"], actual.Keys.Order());
        var total = actual.Values.Sum(p => p.Values.Sum()) * 60;
        var expected = _fixture.Flows.Count(f => f.Tenant == "default" && f.DstNamespace == "ns-c" && Kept(f)
            && f.EndMs > Ms(0) && f.EndMs <= Ms(31));
        Assert.Equal(expected, total, 6);
    }

    [Fact]
    public async Task QueryFlows_FilterLimitOrder_StreamsTypedRecords()
    {
        using var call = _client.QueryFlows(new FlowsRequest
        {
            Range = Range(0, 31),
            Filters = new FlowFilters { SrcNamespace = "ns-a" },
            Limit = 40,
            Direction = Direction.Forward,
        });
        var rows = new List<FlowRow>();
        await foreach (var row in call.ResponseStream.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            rows.Add(row);
        }

        var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.SrcNamespace == "ns-a" && Kept(f))
            .OrderBy(f => f.EndMs).Take(40).ToList();
        Assert.Equal(expected.Select(f => f.EndMs), rows.Select(r => r.TimeFlowEndUnixNano / 1_000_000));
        Assert.Equal(expected.Select(f => f.Bytes).Order(), rows.Select(r => r.Bytes).Order());
        Assert.All(rows, r =>
        {
            Assert.Equal("ns-a", r.SrcK8SNamespace);
            Assert.Equal(6, r.Proto);
            Assert.True(r.HasDstPort);
            Assert.Contains("\"Bytes\":" + r.Bytes.ToString(CultureInfo.InvariantCulture), r.Json, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task QueryFlows_OtherTenantInMetadata_OnlyItsFlows()
    {
        var headers = new Metadata { { "x-scope-orgid", "other" } };
        using var call = _client.QueryFlows(new FlowsRequest { Range = Range(0, 31), Limit = 1000 }, headers);
        var count = 0;
        await foreach (var _ in call.ResponseStream.ReadAllAsync())
        {
            count++;
        }

        Assert.Equal(_fixture.Flows.Count(f => f.Tenant == "other" && Kept(f)), count);
    }

    [Fact]
    public async Task QueryFlows_LimitPastMaxEntries_InvalidArgumentNamingTheLimit()
    {
        using var call = _client.QueryFlows(new FlowsRequest { Range = Range(0, 31), Limit = 1_000_000 });

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("max_entries_limit_per_query", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryRange_BadQuery_InvalidArgumentWithTheParseError()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _client.QueryRangeAsync(new RangeQueryRequest
        {
            Query = "sum(rate({app=\"x\"}",
            Range = Range(0, 31),
        }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("parse error", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryRange_RangePastMaxQueryRange_InvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _client.QueryRangeAsync(new RangeQueryRequest
        {
            Query = "{app=\"netobserv-flowcollector\"}",
            Range = new TimeRange { StartUnixNano = 1, EndUnixNano = long.MaxValue },
        }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("Query:MaxQueryRange", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LabelValues_SourceNamespace_SameAsTheLokiApi()
    {
        var response = await _client.LabelValuesAsync(new LabelValuesRequest
        {
            Name = "SrcK8S_Namespace",
            Range = Range(0, 31),
        }).ResponseAsync.DefaultTimeout();

        Assert.Equal(QueryTestFlows.Namespaces.Order(StringComparer.Ordinal), response.Values);
        var names = await _client.LabelNamesAsync(new LabelNamesRequest { Range = Range(0, 31) }).ResponseAsync.DefaultTimeout();
        Assert.Contains("SrcK8S_Namespace", names.Names);
        Assert.Contains("app", names.Names);
    }

    [Fact]
    public async Task Health_QueryPort_Serving()
    {
        var health = new Health.HealthClient(_channel);

        var response = await health.CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task QueryService_OnTheIngestPort_NotAnswered()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_fixture.Server.GrpcPort}");
        var client = new QueryService.QueryServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.BuildInfoAsync(new BuildInfoRequest()).ResponseAsync).DefaultTimeout();

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
        var version = await _client.BuildInfoAsync(new BuildInfoRequest()).ResponseAsync.DefaultTimeout();
        Assert.StartsWith("netobserv-backend-", version.Version, StringComparison.Ordinal);
    }
}
