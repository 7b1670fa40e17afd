using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using NetObserv.Flows;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Ingest.LokiPush;

/// <summary>
/// Loki's label limits on the whole server, over real HTTP on 127.0.0.1: a stream over a limit is answered
/// 400 with its reason, quickly even when it has 40,000 labels, and a good push from another client right
/// after is stored in PostgreSQL.
/// </summary>
public sealed class PushLabelLimitsTests(PushServerFixture fixture) : IClassFixture<PushServerFixture>
{
    private static readonly Uri s_push = new("/loki/api/v1/push", UriKind.Relative);

    private static FlowRecord Flow(string hash)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return new FlowRecord
        {
            TimeFlowStartMs = now - 61_000,
            TimeFlowEndMs = now - 60_000,
            TimeReceived = (now / 1000) - 59,
            SrcAddr = IPAddress.Parse("10.128.0.5"),
            DstAddr = IPAddress.Parse("172.30.0.10"),
            SrcPort = 41_000,
            DstPort = 8080,
            Proto = 6,
            Bytes = 4_096,
            Packets = 4,
            FlowDirection = 0,
            Src = new KubernetesMetadata { Namespace = "shop", OwnerName = "web", Type = "Pod" },
            Dst = new KubernetesMetadata { Namespace = "data", OwnerName = "db", Type = "Service" },
            K8SFlowLayer = "app",
            HashId = hash,
        };
    }

    /// <summary>One FLP stream of one flow, with <paramref name="extra"/> labels added after FLP's.</summary>
    private static PushStream Stream(FlowRecord flow, IEnumerable<KeyValuePair<string, string>> extra)
    {
        var stream = PushBodies.FlpStream(flow);
        return stream with { Labels = [.. stream.Labels, .. extra] };
    }

    private static byte[] Body(bool protobuf, PushStream stream) =>
        protobuf ? PushBodies.SnappyProtobuf([stream]) : PushBodies.Json([stream]);

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, bool protobuf, byte[] body, string tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, s_push) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType =
            new MediaTypeHeaderValue(protobuf ? "application/x-protobuf" : "application/json");
        request.Headers.Add("X-Scope-OrgID", tenant);
        return await client.SendAsync(request).DefaultTimeout();
    }

    /// <summary>Another client pushes one good flow: it is answered 204 and stored.</summary>
    private async Task AssertGoodPushStoredAsync(bool protobuf, string tenant)
    {
        using var other = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{fixture.Server.HttpPort}"),
            Timeout = Timeouts.Default,
        };
        var flow = Flow(tenant + "-good");
        using var response = await PostAsync(other, protobuf, Body(protobuf, PushBodies.FlpStream(flow)), tenant);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cs = fixture.Server.ConnectionString;
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(cs, tenant) >= 1,
            what: $"the good flow of tenant {tenant}");
        var row = Assert.Single(await PushFlowRows.ReadAsync(cs, tenant).DefaultTimeout());
        Assert.Equal(FlowRecordJson.ToJson(flow), FlowRecordJson.ToJson(row));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Push_40000Labels_Answers400FastAndStoresNothingThenAGoodPushIsStored(bool protobuf)
    {
        var tenant = protobuf ? "labels-40k-proto" : "labels-40k-json";
        var extra = Enumerable.Range(0, 40_000).Select(i => new KeyValuePair<string, string>($"l{i}", $"{i}"));
        var body = Body(protobuf, Stream(Flow(tenant + "-bad"), extra));
        // Warm the endpoint up so the time below is the request's own.
        using (var warmup = await PostAsync(fixture.Server.Http, protobuf, Body(protobuf, Stream(Flow("w"), [])),
                   tenant + "-warmup"))
        {
            Assert.Equal(HttpStatusCode.NoContent, warmup.StatusCode);
        }

        var watch = Stopwatch.StartNew();
        using var response = await PostAsync(fixture.Server.Http, protobuf, body, tenant);
        var message = await response.Content.ReadAsStringAsync().DefaultTimeout();
        watch.Stop();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("1 of 1 lines rejected, 0 accepted (max_label_names_per_series: 1); stream {app=", message,
            StringComparison.Ordinal);
        Assert.Contains("more than 30 label names (limit 30) (1 lines)", message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"{body.Length} bytes answered in {watch.Elapsed}");
        await AssertGoodPushStoredAsync(protobuf, tenant);
    }

    [Theory]
    [InlineData(true, "count", "max_label_names_per_series", "more than 30 label names (limit 30)")]
    [InlineData(false, "count", "max_label_names_per_series", "more than 30 label names (limit 30)")]
    [InlineData(true, "name", "label_name_too_long", " of 1025 bytes is too long (limit 1024)")]
    [InlineData(false, "name", "label_name_too_long", " of 1025 bytes is too long (limit 1024)")]
    [InlineData(true, "value", "label_value_too_long", "value of label big of 2049 bytes is too long (limit 2048)")]
    [InlineData(false, "value", "label_value_too_long", "value of label big of 2049 bytes is too long (limit 2048)")]
    public async Task Push_StreamOverALabelLimit_Answers400WithTheReasonThenAGoodPushIsStored(bool protobuf,
        string limit, string reason, string expected)
    {
        var tenant = $"labels-{limit}-{(protobuf ? "proto" : "json")}";
        // FLP's stream has 9 labels: 22 more make 31; a name of 1025 bytes; a value of 2049 bytes ('é' is 2).
        IEnumerable<KeyValuePair<string, string>> extra = limit switch
        {
            "count" => Enumerable.Range(0, 22).Select(i => new KeyValuePair<string, string>($"custom_{i}", "x")),
            "name" => [new(new string('n', 1025), "x")],
            _ => [new("big", new string('v', 2047) + "\u00e9")],
        };
        var atLimit = limit switch
        {
            "count" => Enumerable.Range(0, 21).Select(i => new KeyValuePair<string, string>($"custom_{i}", "x")),
            "name" => [new(new string('n', 1024), "x")],
            _ => (IEnumerable<KeyValuePair<string, string>>)[new("big", new string('v', 2046) + "\u00e9")],
        };
        var bad = Flow(tenant + "-bad");
        var allowed = Flow(tenant + "-at-limit");

        using var refused = await PostAsync(fixture.Server.Http, protobuf, Body(protobuf, Stream(bad, extra)), tenant);
        using var accepted = await PostAsync(fixture.Server.Http, protobuf, Body(protobuf, Stream(allowed, atLimit)),
            tenant + "-at-limit");

        var message = await refused.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.StartsWith($"1 of 1 lines rejected, 0 accepted ({reason}: 1); stream {{app=", message,
            StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        await AssertGoodPushStoredAsync(protobuf, tenant);
        var cs = fixture.Server.ConnectionString;
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(cs, tenant + "-at-limit") >= 1,
            what: "the flow at the limit");
        var row = Assert.Single(await PushFlowRows.ReadAsync(cs, tenant + "-at-limit").DefaultTimeout());
        Assert.Equal(FlowRecordJson.ToJson(allowed), FlowRecordJson.ToJson(row));
    }
}
