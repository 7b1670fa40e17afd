using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>
/// <c>pluginv2.Data/QueryData</c> of the published plugin: each query type against the Loki API's answer
/// and sums over the same flows, frames read back with Arrow's file reader, errors per query.
/// </summary>
[Collection(PluginTestGroup.Name)]
public sealed class QueryDataTests
{
    private const long StepMs = 60_000;
    private readonly PluginFixture _fixture;

    public QueryDataTests(PluginFixture fixture)
    {
        _fixture = fixture;
    }

    private static long Ms(int minutes) => QueryTestFlows.OriginMs + (minutes * 60_000L);

    private static bool Kept(QueryTestFlow f) => QueryTestFlows.Kept(f);

    private static DataQuery Query(string refId, string json, int fromMinute = 1, int toMinute = 31) => new()
    {
        RefId = refId,
        Json = ByteString.CopyFromUtf8(json),
        IntervalMS = StepMs,
        MaxDataPoints = 1000,
        TimeRange = new TimeRange { FromEpochMS = Ms(fromMinute), ToEpochMS = Ms(toMinute) },
    };

    private async Task<QueryDataResponse> QueryDataAsync(params DataQuery[] queries)
    {
        var request = new QueryDataRequest { PluginContext = _fixture.Context() };
        request.Queries.AddRange(queries);
        return await _fixture.Data.QueryDataAsync(request).ResponseAsync.DefaultTimeout();
    }

    private static List<DecodedFrame> Frames(DataResponse response)
    {
        Assert.True(string.IsNullOrEmpty(response.Error), response.Error);
        return response.Frames.Select(f => DecodedFrame.Read(f.ToByteArray())).ToList();
    }

    /// <summary>The Loki API's matrix for the same query and range, by series labels then time (ms).</summary>
    private async Task<Dictionary<string, Dictionary<long, double>>> LokiMatrixAsync(string query, int fromMinute, int toMinute)
    {
        var url = string.Create(CultureInfo.InvariantCulture,
            $"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={Ms(fromMinute) * 1_000_000}&end={Ms(toMinute) * 1_000_000}&step={StepMs}ms");
        using var doc = JsonDocument.Parse(await _fixture.Server.Http.GetStringAsync(new Uri(url, UriKind.Relative)).DefaultTimeout());
        return doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToDictionary(
            s => Key(s.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)),
            s => s.GetProperty("values").EnumerateArray().ToDictionary(
                v => (long)Math.Round(v[0].GetDouble() * 1000),
                v => double.Parse(v[1].GetString()!, CultureInfo.InvariantCulture)));
    }

    private static string Key(IReadOnlyDictionary<string, string> labels) =>
        string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));

    private static Dictionary<string, Dictionary<long, double>> ByLabels(IEnumerable<DecodedFrame> frames) =>
        frames.ToDictionary(f => Key(f.Labels("Value")),
            f => f.TimesMs("Time").Zip(f.Doubles("Value")).ToDictionary(p => p.First, p => p.Second));

    [Fact]
    public async Task QueryData_Volumetry_TimeSeriesFramesEqualToLokiAndFlowSums()
    {
        var response = await QueryDataAsync(Query("A",
            """{"queryType":"volumetry","groupBy":"namespace","metric":"bytes","direction":"src"}"""));

        var frames = Frames(response.Responses["A"]);
        Assert.Equal(200, response.Responses["A"].Status);
        Assert.All(frames, f =>
        {
            Assert.Equal("A", f.RefId);
            Assert.Equal("timeseries-multi", (string?)f.Meta!["type"]);
            Assert.Equal(Apache.Arrow.Types.DoubleType.Default.TypeId, f.Field("Value").DataType.TypeId);
            Assert.Contains("\"unit\":\"Bps\"", f.Field("Value").Metadata["config"], StringComparison.Ordinal);
            Assert.Equal("time", f.Field("Time").Metadata["tstype"]);
        });

        // The same matrix as the Loki API for the query the frames say was run.
        var executed = (string)frames[0].Meta!["executedQueryString"]!;
        var loki = await LokiMatrixAsync(executed, 1, 31);
        var actual = ByLabels(frames);
        Assert.Equal(loki.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (labels, points) in loki)
        {
            Assert.Equal(points.OrderBy(p => p.Key), actual[labels].OrderBy(p => p.Key));
        }

        // And the flows: bytes per second of the kept flows of each source namespace ending in (t - step, t].
        foreach (var ns in QueryTestFlows.Namespaces)
        {
            var points = actual["SrcK8S_Namespace=" + ns];
            for (var k = 1; k <= 31; k++)
            {
                var t = Ms(k);
                Assert.Equal(QueryTestFlows.SourceBytesRate(_fixture.Flows, ns, t, StepMs), points.GetValueOrDefault(t), 6);
            }
        }
    }

    [Fact]
    public async Task QueryData_LogQLMetric_OneFramePerSeriesAsTheLokiApi()
    {
        const string Expr = "sum by (DstK8S_Namespace) (count_over_time({app=\"netobserv-flowcollector\"} [1m]))";

        var response = await QueryDataAsync(Query("B", JsonSerializer.Serialize(new { queryType = "logql", expr = Expr })));

        var frames = Frames(response.Responses["B"]);
        var loki = await LokiMatrixAsync(Expr, 1, 31);
        var actual = ByLabels(frames);
        Assert.Equal(QueryTestFlows.Namespaces.Length, frames.Count);
        Assert.Equal(loki.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (labels, points) in loki)
        {
            Assert.Equal(points.OrderBy(p => p.Key), actual[labels].OrderBy(p => p.Key));
        }
    }

    [Fact]
    public async Task QueryData_LogQLLogQuery_LogLinesFrameWithTheLokiApisLines()
    {
        const string Expr = "{app=\"netobserv-flowcollector\", DstK8S_Namespace=\"ns-b\"}";

        var response = await QueryDataAsync(Query("C", JsonSerializer.Serialize(new { queryType = "logql", expr = Expr, maxLines = 30 })));

        var frame = Assert.Single(Frames(response.Responses["C"]));
        Assert.Equal("log-lines", (string?)frame.Meta!["type"]);
        Assert.Equal(30, frame.Rows);
        var url = string.Create(CultureInfo.InvariantCulture,
            $"/loki/api/v1/query_range?query={Uri.EscapeDataString(Expr)}&start={Ms(1) * 1_000_000}&end={Ms(31) * 1_000_000}&limit=30");
        using var doc = JsonDocument.Parse(await _fixture.Server.Http.GetStringAsync(new Uri(url, UriKind.Relative)).DefaultTimeout());
        var lokiLines = doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .SelectMany(s => s.GetProperty("values").EnumerateArray()
                .Select(v => (Ns: long.Parse(v[0].GetString()!, CultureInfo.InvariantCulture), Line: v[1].GetString()!)))
            .OrderByDescending(e => e.Ns).ToList();
        Assert.Equal(lokiLines.Select(e => e.Ns / 1_000_000), frame.TimesMs("timestamp"));
        Assert.Equal(lokiLines.Select(e => e.Line).Order(StringComparer.Ordinal), frame.Strings("body").Order(StringComparer.Ordinal));
        Assert.All(frame.Json("labels"), l => Assert.Contains("\"app\":\"netobserv-flowcollector\"", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task QueryData_Flows_TypedTableEqualToSqlSums()
    {
        var response = await QueryDataAsync(Query("D",
            """{"queryType":"flows","limit":1000,"srcNamespace":"ns-c","order":"asc"}""", 0, 31));

        var frame = Assert.Single(Frames(response.Responses["D"]));
        Assert.Equal("table", (string?)frame.Meta!["type"]);
        Assert.Equal("flows", frame.Name);
        Assert.Equal(Apache.Arrow.Types.ArrowTypeId.Int64, frame.Field("Bytes").DataType.TypeId);
        Assert.Equal(Apache.Arrow.Types.ArrowTypeId.String, frame.Field("SrcAddr").DataType.TypeId);
        Assert.Equal(Apache.Arrow.Types.ArrowTypeId.Int32, frame.Field("DstPort").DataType.TypeId);
        Assert.All(frame.Strings("SrcK8S_Namespace"), ns => Assert.Equal("ns-c", ns));
        var times = frame.TimesMs("TimeFlowEndMs");
        Assert.Equal(times.Order(), times);

        var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.SrcNamespace == "ns-c" && Kept(f)
            && f.EndMs >= Ms(0) && f.EndMs < Ms(31)).ToList();
        Assert.Equal(expected.Count, frame.Rows);
        Assert.Equal(expected.Select(f => f.EndMs).Order(), times);

        // The same totals straight from SQL over the flows view.
        await using var connection = new NpgsqlConnection(_fixture.Server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT count(*), coalesce(sum(bytes), 0)::bigint FROM flows
            WHERE tenant = 'default' AND src_k8s_namespace = 'ns-c'
              AND (flow_direction IS DISTINCT FROM 1 OR coalesce(dst_k8s_owner_name, '') = '')
              AND time_end >= $1 AND time_end < $2
            """, connection);
        command.Parameters.AddWithValue(DateTime.UnixEpoch.AddMilliseconds(Ms(0)));
        command.Parameters.AddWithValue(DateTime.UnixEpoch.AddMilliseconds(Ms(31)));
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(reader.GetInt64(0), frame.Rows);
        Assert.Equal(reader.GetInt64(1), frame.Longs("Bytes").Sum());
    }

    [Fact]
    public async Task QueryData_OneBadQuery_ItsOwnErrorOthersAnswered()
    {
        var response = await QueryDataAsync(
            Query("good", """{"queryType":"volumetry","metric":"flows"}"""),
            Query("bad", """{"queryType":"logql","expr":"sum(rate({app=\"x\"}"}"""),
            Query("unknown", """{"queryType":"nodes"}"""),
            new DataQuery
            {
                RefId = "far",
                Json = ByteString.CopyFromUtf8("""{"queryType":"volumetry"}"""),
                TimeRange = new TimeRange { FromEpochMS = long.MaxValue - 1, ToEpochMS = long.MaxValue },
            });

        Assert.NotEmpty(Frames(response.Responses["good"]));
        var bad = response.Responses["bad"];
        Assert.Equal(400, bad.Status);
        Assert.StartsWith("parse error", bad.Error, StringComparison.Ordinal);
        Assert.Equal("downstream", bad.ErrorSource);
        Assert.Empty(bad.Frames);
        var unknown = response.Responses["unknown"];
        Assert.Equal(400, unknown.Status);
        Assert.Contains("unknown queryType", unknown.Error, StringComparison.Ordinal);
        Assert.Equal("plugin", unknown.ErrorSource);
        Assert.Equal(400, response.Responses["far"].Status);
        Assert.Contains("outside", response.Responses["far"].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryData_TenantInJsonData_ReadsThatTenant()
    {
        var request = new QueryDataRequest { PluginContext = _fixture.Context("""{"tenant":"other"}""") };
        request.Queries.Add(Query("T", """{"queryType":"flows","limit":5000}""", 0, 31));

        var response = await _fixture.Data.QueryDataAsync(request).ResponseAsync.DefaultTimeout();

        var frame = Assert.Single(Frames(response.Responses["T"]));
        Assert.Equal(_fixture.Flows.Count(f => f.Tenant == "other" && Kept(f)), frame.Rows);
    }

    [Fact]
    public async Task QueryData_BackendDown_PerQueryErrorNotAFailedCall()
    {
        var request = new QueryDataRequest { PluginContext = PluginFixture.Context(PluginFixture.ClosedUrl()) };
        request.Queries.Add(Query("A", """{"queryType":"volumetry"}"""));

        var response = await _fixture.Data.QueryDataAsync(request).ResponseAsync.DefaultTimeout();

        Assert.Equal(502, response.Responses["A"].Status);
        Assert.Equal("downstream", response.Responses["A"].ErrorSource);
        Assert.Contains("unavailable", response.Responses["A"].Error, StringComparison.Ordinal);
    }
}
