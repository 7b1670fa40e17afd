using System.Globalization;
using System.Net;
using System.Text.Json;
using NetObserv.Flows;
using NetObserv.Server.Tests.Ingest.LokiPush;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// A cached answer for a past range does not hide flows that arrive later for that range: flows pushed as
/// flowlogs-pipeline pushes them (protobuf and snappy, label fields out of the line) after the answer was
/// cached appear in the next answer, while a range they do not touch keeps being served from the cache.
/// </summary>
public sealed class QueryCacheLateDataTests(PushServerFixture fixture) : IClassFixture<PushServerFixture>
{
    private static readonly long s_originMs =
        ((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 3_600_000) - 3) * 3_600_000;

    private static List<FlowRecord> Flows(int count, long fromMs, int seed)
    {
        var random = new Random(seed);
        var flows = new List<FlowRecord>();
        for (var i = 0; i < count; i++)
        {
            var end = fromMs + random.Next(1, 600_000);
            flows.Add(new FlowRecord
            {
                TimeFlowStartMs = end - 1_000,
                TimeFlowEndMs = end,
                TimeReceived = end / 1000,
                Etype = 2048,
                SrcAddr = IPAddress.Parse("10.128.0." + random.Next(1, 250)),
                DstAddr = IPAddress.Parse("10.129.0." + random.Next(1, 250)),
                Proto = 6,
                SrcPort = 40_000 + i,
                DstPort = 8080,
                Bytes = random.Next(100, 5_000),
                Packets = random.Next(1, 20),
                FlowDirection = 0,
                K8SFlowLayer = "app",
                Src = new KubernetesMetadata { Namespace = "shop", OwnerName = "web", OwnerType = "Deployment", Type = "Pod" },
                Dst = new KubernetesMetadata { Namespace = "data", OwnerName = "db", OwnerType = "Deployment", Type = "Pod" },
            });
        }

        return flows;
    }

    private Task PushAsync(List<FlowRecord> flows, string tenant, long expectedRows) =>
        fixture.PushFlpAsync(flows, tenant, expectedRows);

    private async Task<long> CountAsync(string tenant, long startMs, long endMs)
    {
        var query = Uri.EscapeDataString("sum(count_over_time({app=\"netobserv-flowcollector\"}[10m]))");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(
            $"/loki/api/v1/query_range?query={query}&start={startMs * 1_000_000}&end={endMs * 1_000_000}&step=600s",
            UriKind.Relative));
        request.Headers.Add("X-Scope-OrgID", tenant);
        using var response = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var result = json.RootElement.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0 ? 0
            : long.Parse(result[0].GetProperty("values")[0][1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>The end of the one 10-minute window of <see cref="Flows"/> from the origin.</summary>
    private static long Window => s_originMs + 600_000;

    /// <summary>Pushes <paramref name="flows"/>, waits for their rows and counts them over the window (caching the answer).</summary>
    private async Task<long> PushAndCountAsync(string tenant, List<FlowRecord> flows)
    {
        await PushAsync(flows, tenant, flows.Count);
        return await CountAsync(tenant, Window, Window);
    }

    [Fact]
    public async Task QueryRange_FlowsArrivingLateForACachedRange_AppearInTheNextAnswer()
    {
        const string tenant = "late";
        var window = Window;
        var first = Flows(30, s_originMs, seed: 1);

        var before = await PushAndCountAsync(tenant, first);
        var cached = await CountAsync(tenant, window, window);
        var late = Flows(12, s_originMs, seed: 2);
        await PushAsync(late, tenant, first.Count + late.Count);
        var after = await CountAsync(tenant, window, window);

        Assert.Equal(first.Count, before);
        Assert.Equal(before, cached);
        Assert.Equal(first.Count + late.Count, after);
    }

    [Fact]
    public async Task QueryRange_FlowsArrivingForAnotherRange_LeaveTheCachedAnswer()
    {
        const string tenant = "late-other";
        var first = Flows(20, s_originMs, seed: 3);
        var before = await PushAndCountAsync(tenant, first);

        // Rows removed behind the cache's back stay hidden (the answer is cached), and flows accepted for a
        // later range do not drop it.
        await using (var connection = new Npgsql.NpgsqlConnection(fixture.Server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var delete = new Npgsql.NpgsqlCommand(
                "DELETE FROM flow_rows WHERE context IN (SELECT id FROM flow_contexts WHERE tenant = $1)", connection);
            delete.Parameters.AddWithValue(tenant);
            Assert.Equal(first.Count, await delete.ExecuteNonQueryAsync());
        }

        var later = Flows(5, s_originMs + 1_200_000, seed: 4);
        await PushAsync(later, tenant, later.Count);
        var after = await CountAsync(tenant, Window, Window);

        Assert.Equal(first.Count, before);
        Assert.Equal(before, after);
    }
}
