using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetObserv.Flows;
using NetObserv.Flows.Pbflow;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Server.Tests.Ingest;
using NetObserv.Server.Tests.Ingest.LokiPush;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// Every field of the field table, and the fields without a column, sent end to end: gRPC (pbflow) and Loki push
/// (protobuf and snappy, label fields out of the line, structured metadata) -> PostgreSQL -> the log line the
/// Loki query API answers, and the <c>| json</c> filters on them. Fails when any layer misses a field.
/// </summary>
public sealed class EveryFieldEndToEndTests(PushServerFixture fixture) : IClassFixture<PushServerFixture>
{
    private const string Selector = "{app=\"netobserv-flowcollector\"}";

    [Fact]
    public async Task Push_EveryFieldAndExtraField_ComesBackInTheLineAndFilters()
    {
        const string Tenant = "team-every-field";
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 30_000;
        var sample = FlowFieldSamples.Full(endMs, "every-field-push");
        var stream = PushBodies.FlpStream(sample);
        stream = stream with { Entries = [stream.Entries[0] with { Metadata = [new("trace_id", "t-42")] }] };
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/loki/api/v1/push", UriKind.Relative)))
        {
            request.Content = new ByteArrayContent(PushBodies.SnappyProtobuf([stream]));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-protobuf");
            request.Headers.Add("X-Scope-OrgID", Tenant);
            using var response = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        var cs = fixture.Server.ConnectionString;
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(cs, Tenant) >= 1, what: "the pushed flow");

        var line = Assert.Single(await QueryAsync(Selector, Tenant, endMs));
        using var expected = JsonDocument.Parse(FlowRecordJson.ToJson(sample));
        foreach (var field in FlowFields.All)
        {
            Assert.True(line.ContainsKey(field.Name), $"{field.Name} is missing from {line.ToJsonString()}");
            var want = expected.RootElement.GetProperty(field.Name);
            var got = line[field.Name]!;
            Assert.True(SameValue(want, got), $"{field.Name}: sent {want.GetRawText()}, got {got.ToJsonString()}");
        }

        foreach (var (name, value) in JsonNode.Parse(FlowFieldSamples.ExtraFieldsJson)!.AsObject())
        {
            Assert.True(JsonNode.DeepEquals(value, line[name]), $"{name}: sent {value?.ToJsonString()}, got {line[name]?.ToJsonString()}");
        }

        Assert.Equal("t-42", (string?)line["trace_id"]);

        // | json filters on fields without a column: text, numbers, custom fields; a value no flow has finds nothing.
        foreach (var filter in new[]
        {
            "DnsFlagsResponseCode=\"NXDomain\"", "XlatSrcAddr=\"10.128.0.99\"", "XlatSrcPort >= 1234",
            "IPSecStatus=\"success\" and TLSVersion=~\"TLS 1\\\\.[23]\"", "CustomTeam=\"payments\"", "trace_id=\"t-42\"",
            "SrcSubnetLabel=\"Pods\"", "DstSubnetLabel=\"Services\"",
        })
        {
            Assert.Single(await QueryAsync($"{Selector} | json | {filter}", Tenant, endMs));
        }

        Assert.Empty(await QueryAsync($"{Selector} | json | CustomTeam=\"nobody\"", Tenant, endMs));
        Assert.Empty(await QueryAsync($"{Selector} | json | QuicVersion > 1", Tenant, endMs));
    }

    [Fact]
    public async Task Grpc_EveryAgentFieldAndExtraField_ComesBackInTheLineAndFilters()
    {
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 45_000;
        var records = new Records();
        records.Entries.Add(FlowFieldSamples.PbflowRecords(endMs));
        using (var channel = GrpcIngestClient.Channel(fixture.Server.GrpcPort))
        {
            await new Collector.CollectorClient(channel).SendAsync(records).ResponseAsync.DefaultTimeout();
        }

        var cs = fixture.Server.ConnectionString;
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(cs, FlowRecord.DefaultTenant) >= 2,
            what: "the two agent flows");

        var lines = await QueryAsync(Selector, FlowRecord.DefaultTenant, endMs);
        Assert.Equal(2, lines.Count);
        foreach (var name in FlowFieldSamples.AgentFieldNames)
        {
            Assert.True(lines.Any(l => l.ContainsKey(name)), $"{name} is missing from every line");
        }

        var tcp = Assert.Single(lines, l => l.ContainsKey("TLSVersion"));
        foreach (var (name, value) in FlowFieldSamples.PbflowExtraFields)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(value), tcp[name]), $"{name}: got {tcp[name]?.ToJsonString()}");
        }

        Assert.Equal(123_456, (long)tcp["Bytes"]!);
        Assert.Single(await QueryAsync($"{Selector} | json | TLSVersion=\"TLS 1.3\" and DnsFlagsResponseCode=\"NXDomain\"",
            FlowRecord.DefaultTenant, endMs));
        Assert.Single(await QueryAsync($"{Selector} | json | ZoneId=3 and XlatDstPort=8080", FlowRecord.DefaultTenant, endMs));
    }

    /// <summary>The lines of a log query around <paramref name="endMs"/>, each merged with its stream labels.</summary>
    private async Task<List<JsonObject>> QueryAsync(string query, string tenant, long endMs)
    {
        var start = (endMs - 5_000) * 1_000_000;
        var end = (endMs + 5_000) * 1_000_000;
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={start}&end={end}&limit=100");
        request.Headers.Add("X-Scope-OrgID", tenant);
        using var answer = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
        var body = await answer.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(answer.IsSuccessStatusCode, $"{query}: {body}");
        var lines = new List<JsonObject>();
        foreach (var stream in JsonNode.Parse(body)!["data"]!["result"]!.AsArray())
        {
            foreach (var value in stream!["values"]!.AsArray())
            {
                var line = JsonNode.Parse((string)value![1]!)!.AsObject();
                foreach (var (label, labelValue) in stream["stream"]!.AsObject())
                {
                    if (label != "app" && !line.ContainsKey(label))
                    {
                        line[label] = labelValue!.DeepClone();
                    }
                }

                lines.Add(line);
            }
        }

        return lines;
    }

    /// <summary>A line value equals the sent one, or (a stream label) is its text.</summary>
    private static bool SameValue(JsonElement sent, JsonNode got)
    {
        if (JsonNode.DeepEquals(JsonNode.Parse(sent.GetRawText()), got))
        {
            return true;
        }

        var text = got.GetValueKind() == JsonValueKind.String ? got.GetValue<string>() : null;
        return text is not null && sent.ValueKind != JsonValueKind.String && text == sent.GetRawText();
    }
}
