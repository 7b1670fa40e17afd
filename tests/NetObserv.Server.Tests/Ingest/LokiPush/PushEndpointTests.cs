using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using NetObserv.Flows;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Ingest.LokiPush;

/// <summary>
/// flowlogs-pipeline's Loki writer against the whole server: bodies made of FLP lines (label fields in the
/// stream labels, the rest in the line) go through HTTP, the ingest channel and the batch writer, and the
/// rows in PostgreSQL are compared field by field with the records the test built.
/// </summary>
public sealed class PushEndpointTests(PushServerFixture fixture) : IClassFixture<PushServerFixture>
{
    private static readonly Uri s_push = new("/loki/api/v1/push", UriKind.Relative);

    /// <summary>Realistic flows: IPv4 and IPv6, TCP, UDP and ICMP, DNS, drops, RTT, several namespaces.</summary>
    private static List<FlowRecord> Flows(string prefix, int count)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string[] namespaces = ["shop", "data", "openshift-dns"];
        var flows = new List<FlowRecord>();
        for (var i = 0; i < count; i++)
        {
            var v6 = i % 4 == 3;
            var proto = (i % 5) switch { 0 => v6 ? 58 : 1, 1 or 2 => 17, _ => 6 };
            var icmp = proto is 1 or 58;
            var record = new FlowRecord
            {
                TimeFlowStartMs = now - 60_000 - (i * 1_000),
                TimeFlowEndMs = now - 55_000 - (i * 1_000),
                TimeReceived = (now / 1000) - 50 - i,
                Etype = v6 ? 34525 : 2048,
                SrcAddr = IPAddress.Parse(v6 ? $"fd00::a:{i + 1:x}" : $"10.128.{i % 7}.{i + 1}"),
                DstAddr = IPAddress.Parse(v6 ? $"fd00::b:{i + 2:x}" : $"172.30.{i % 3}.{i + 2}"),
                SrcMac = 0x0A5800000000UL + (ulong)i,
                DstMac = 0x0A5800FF0000UL + (ulong)i,
                Proto = proto,
                SrcPort = icmp ? null : 40_000 + i,
                DstPort = icmp ? null : (proto == 17 ? 53 : 8080),
                IcmpType = icmp ? 8 : null,
                IcmpCode = icmp ? 0 : null,
                Flags = proto == 6 ? 2 | 16 | 256 : null,
                Dscp = i % 2 == 0 ? 0 : 10,
                Bytes = 1_000 + (i * 37),
                Packets = 3 + i,
                Sampling = 50,
                FlowDirection = i % 3,
                Interfaces = i % 2 == 0 ? ["eth0"] : ["eth0", "genev_sys_6081"],
                IfDirections = i % 2 == 0 ? [i % 3 == 0 ? 0 : 1] : [1, 0],
                AgentIP = IPAddress.Parse($"192.168.1.{10 + (i % 3)}"),
                DnsId = proto == 17 ? 1000 + i : null,
                DnsFlags = proto == 17 ? 0x8180 : null,
                DnsLatencyMs = proto == 17 ? 3 + i : null,
                DnsName = proto == 17 ? $"svc-{i}.example.com" : null,
                TimeFlowRttNs = proto == 6 ? 120_000 + i : null,
                PktDropBytes = i % 6 == 5 ? 66 : null,
                PktDropPackets = i % 6 == 5 ? 1 : null,
                PktDropLatestState = i % 6 == 5 ? "TCP_ESTABLISHED" : null,
                PktDropLatestDropCause = i % 6 == 5 ? "SKB_DROP_REASON_NO_SOCKET" : null,
                Src = new KubernetesMetadata
                {
                    Name = $"web-{i}",
                    Type = "Pod",
                    Namespace = namespaces[i % 3],
                    OwnerName = $"web-{i % 2}",
                    OwnerType = "Deployment",
                    HostIP = IPAddress.Parse($"192.168.1.{10 + (i % 3)}"),
                    HostName = $"node-{i % 3}",
                    Zone = i % 2 == 0 ? "zone-a" : null,
                },
                Dst = new KubernetesMetadata
                {
                    Name = $"db-{i % 4}",
                    Type = i % 2 == 0 ? "Service" : "Pod",
                    Namespace = namespaces[(i + 1) % 3],
                    OwnerName = $"db-{i % 4}",
                    OwnerType = i % 2 == 0 ? "Service" : "StatefulSet",
                    HostName = i % 2 == 0 ? null : "node-9",
                },
                K8SFlowLayer = i % 4 == 0 ? "infra" : "app",
                K8SClusterName = "prod",
                RecordType = "flowLog",
                HashId = $"{prefix}-{i}",
            };
            flows.Add(record);
        }

        return flows;
    }

    private async Task<List<FlowRecord>> RowsAsync(string tenant, int expected)
    {
        var cs = fixture.Server.ConnectionString;
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(cs, tenant) >= expected,
            what: $"{expected} rows for tenant {tenant}");
        return await PushFlowRows.ReadAsync(cs, tenant).DefaultTimeout();
    }

    private static void AssertRowsEqual(List<FlowRecord> expected, List<FlowRecord> rows, string tenant)
    {
        Assert.Equal(expected.Count, rows.Count);
        var byHash = rows.ToDictionary(r => r.HashId!, StringComparer.Ordinal);
        foreach (var record in expected)
        {
            var row = byHash[record.HashId!];
            Assert.Equal(FlowRecordJson.ToJson(record), FlowRecordJson.ToJson(row));
            Assert.Equal(tenant, row.Tenant);
        }
    }

    private async Task<HttpResponseMessage> PostAsync(HttpContent content, string? tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, s_push) { Content = content };
        if (tenant is not null)
        {
            request.Headers.Add("X-Scope-OrgID", tenant);
        }

        return await fixture.Server.Http.SendAsync(request).DefaultTimeout();
    }

    private static ByteArrayContent Body(byte[] bytes, string contentType, string? encoding = null)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        return content;
    }

    [Fact]
    public async Task Push_ProtobufSnappyFlpLines_RowsHaveEveryField()
    {
        var flows = Flows("proto", 30);
        var body = PushBodies.SnappyProtobuf(flows.Select(f => PushBodies.FlpStream(f)));

        using var response = await PostAsync(Body(body, "application/x-protobuf"), "team-proto");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        AssertRowsEqual(flows, await RowsAsync("team-proto", flows.Count), "team-proto");
    }

    [Fact]
    public async Task Push_GzipJsonFlpLinesWithoutTenant_RowsHaveEveryFieldInDefaultTenant()
    {
        var flows = Flows("json", 24);
        var json = PushBodies.Json(flows.Select(f => PushBodies.FlpStream(f)));
        using var gzipped = new MemoryStream();
        await using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }

        using var response = await PostAsync(Body(gzipped.ToArray(), "application/json; charset=utf-8", "gzip"), null);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        AssertRowsEqual(flows, await RowsAsync(FlowRecord.DefaultTenant, flows.Count), FlowRecord.DefaultTenant);
    }

    [Fact]
    public async Task Push_FieldsWithoutColumns_StoredReturnedInLinesAndFilterable()
    {
        var flows = Flows("extra", 6);
        for (var i = 0; i < flows.Count; i++)
        {
            flows[i].Src.SubnetLabel = i % 2 == 0 ? "Pods" : null;
            flows[i].Dst.SubnetLabel = "Services";
            flows[i].ExtraFields = i % 3 == 0
                ? null
                : $$"""{"DnsFlagsResponseCode":"{{(i % 2 == 0 ? "NXDomain" : "NoError")}}","PktDropLatestFlags":{{i}},"NetworkEvents":[{"Action":"allow","Feature":"acl"}],"XlatSrcAddr":"10.0.0.{{i}}","custom_field":"c-{{i}}"}""";
        }

        var body = PushBodies.SnappyProtobuf(flows.Select(f => PushBodies.FlpStream(f)));
        using var response = await PostAsync(Body(body, "application/x-protobuf"), "team-extra");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var rows = await RowsAsync("team-extra", flows.Count);
        AssertRowsEqual(flows, rows, "team-extra");

        // Through the Loki API: a label filter on a field without a column, and lines that carry every field.
        var start = (flows.Min(f => f.TimeFlowEndMs) - 1000) * 1_000_000;
        var end = (flows.Max(f => f.TimeFlowEndMs) + 1000) * 1_000_000;
        var query = Uri.EscapeDataString("{app=\"netobserv-flowcollector\"} | json | DnsFlagsResponseCode=\"NXDomain\"");
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"/loki/api/v1/query_range?query={query}&start={start}&end={end}&limit=100");
        request.Headers.Add("X-Scope-OrgID", "team-extra");
        using var answer = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
        var json = await answer.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(answer.IsSuccessStatusCode, json);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var lines = doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .SelectMany(s => s.GetProperty("values").EnumerateArray().Select(v => v[1].GetString()!))
            .ToList();
        var expected = flows.Where(f => f.ExtraFields?.Contains("NXDomain", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(expected.Count, lines.Count);
        foreach (var line in lines)
        {
            Assert.True(FlowRecordJson.TryParse(line, out var parsed, out _));
            var flow = expected.Single(f => f.HashId == parsed.HashId);
            Assert.Contains("\"custom_field\":\"c-", line, StringComparison.Ordinal);
            Assert.Contains("\"NetworkEvents\":[{\"Action\":\"allow\",\"Feature\":\"acl\"}]", line, StringComparison.Ordinal);
            Assert.Contains("\"DstSubnetLabel\":\"Services\"", line, StringComparison.Ordinal);
            Assert.Equal(flow.Src.SubnetLabel, parsed.Src.SubnetLabel);
        }

        // A numeric comparison on a field without a column compares JSON numbers.
        var numeric = Uri.EscapeDataString("{app=\"netobserv-flowcollector\"} | json | PktDropLatestFlags >= 4");
        using var numericRequest = new HttpRequestMessage(HttpMethod.Get,
            $"/loki/api/v1/query_range?query={numeric}&start={start}&end={end}&limit=100");
        numericRequest.Headers.Add("X-Scope-OrgID", "team-extra");
        using var numericAnswer = await fixture.Server.Http.SendAsync(numericRequest).DefaultTimeout();
        var numericJson = await numericAnswer.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(numericAnswer.IsSuccessStatusCode, numericJson);
        Assert.Equal(flows.Count(f => f.ExtraFields is not null && flows.IndexOf(f) >= 4),
            System.Text.Json.JsonDocument.Parse(numericJson).RootElement.GetProperty("data").GetProperty("result")
                .EnumerateArray().Sum(s => s.GetProperty("values").GetArrayLength()));
    }

    [Fact]
    public async Task Push_GoodAndBadLines_KeepsGoodAndAnswers400NamingTheBad()
    {
        var flows = Flows("mixed", 3);
        var good = flows.Select(f => PushBodies.FlpStream(f)).ToList();
        var streams = new List<PushStream>
        {
            good[0] with { Entries = [good[0].Entries[0], new PushEntry(1, "not json"), new PushEntry(2, "{\"Bytes\":\"x\"}")] },
            good[1],
            good[2] with { Labels = [new("app", "netobserv-flowcollector")] },
            good[1] with { Labels = [new("broken", "x")], Entries = [good[1].Entries[0]] },
        };
        // The last stream's label string is not a label set: its line is rejected, the others count.
        var body = Snappier.Snappy.CompressToArray(PushBodies.Protobuf(streams,
            s => s.Labels[0].Key == "broken" ? "{broken=x}" : PushBodies.LabelString(s.Labels)));
        // good[2] lost its label fields (namespaces, owners, direction...): expected as the line alone has it.
        Assert.True(FlowRecordJson.TryParse(good[2].Entries[0].Line, out var third, out _));
        third.HashId = flows[2].HashId;

        using var response = await PostAsync(Body(body, "application/x-protobuf"), "team-mixed");
        var message = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("3 of 6 lines rejected, 3 accepted (", message, StringComparison.Ordinal);
        Assert.Contains("invalid_line: 2", message, StringComparison.Ordinal);
        Assert.Contains("invalid_labels: 1", message, StringComparison.Ordinal);
        Assert.Contains("entry 1: invalid JSON", message, StringComparison.Ordinal);
        Assert.Contains("entry 2: field Bytes", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
        AssertRowsEqual([flows[0], flows[1], third], await RowsAsync("team-mixed", 3), "team-mixed");

        using var metrics = await fixture.Server.Http.GetAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();
        var text = await metrics.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.Contains("netobserv_lokipush_lines_rejected_total", text, StringComparison.Ordinal);
        Assert.Contains("netobserv_lokipush_lines_accepted_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_UndecodableBody_Answers400AndStoresNothing()
    {
        using var json = await PostAsync(Body("{\"streams\":[{"u8.ToArray(), "application/json"), "team-broken");
        using var proto = await PostAsync(Body([1, 2, 3, 4, 5], "application/x-protobuf"), "team-broken");

        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.StartsWith("cannot read push request: invalid JSON",
            await json.Content.ReadAsStringAsync().DefaultTimeout(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, proto.StatusCode);
        Assert.StartsWith("cannot read push request:",
            await proto.Content.ReadAsStringAsync().DefaultTimeout(), StringComparison.Ordinal);
        Assert.Equal(0, await PushFlowRows.CountAsync(fixture.Server.ConnectionString, "team-broken").DefaultTimeout());
    }

    [Fact]
    public async Task Push_WriterHeldUntilChannelFull_Answers429AndEveryAcceptedLineIsWritten()
    {
        const int PerPush = 100;
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:ChannelCapacity"] = "300",
            // The memory durability: a full channel is backpressure (the journal durability absorbs it).
            ["Storage:Durability"] = "memory",
            ["Storage:BatchSize"] = "100",
            ["Storage:FlushInterval"] = "00:00:00.050",
        });

        // Hold the writer: COPY into flows waits for this lock, so the channel can only fill.
        await using var blocker = new NpgsqlConnection(server.ConnectionString);
        await blocker.OpenAsync().DefaultTimeout();
        var hold = await blocker.BeginTransactionAsync().AsTask().DefaultTimeout();
        await using (var lockFlows = new NpgsqlCommand("LOCK TABLE flows IN SHARE MODE", blocker, hold))
        {
            await lockFlows.ExecuteNonQueryAsync().DefaultTimeout();
        }

        var accepted = new List<FlowRecord>();
        HttpResponseMessage? throttled = null;
        for (var push = 0; push < 20 && throttled is null; push++)
        {
            var flows = Flows($"held{push}", PerPush);
            using var request = new HttpRequestMessage(HttpMethod.Post, s_push)
            {
                Content = Body(PushBodies.SnappyProtobuf(flows.Select(f => PushBodies.FlpStream(f))),
                    "application/x-protobuf"),
            };
            request.Headers.Add("X-Scope-OrgID", "team-held");
            var response = await server.Http.SendAsync(request).DefaultTimeout();
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throttled = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
                accepted.AddRange(flows);
                response.Dispose();
            }
        }

        Assert.NotNull(throttled);
        using (throttled)
        {
            Assert.StartsWith("ingest queue full (300 of 300 records waiting); batch of 100 refused",
                await throttled.Content.ReadAsStringAsync().DefaultTimeout(), StringComparison.Ordinal);
        }

        // The channel's 300, plus whatever the held writer had already taken out of it.
        Assert.InRange(accepted.Count, 300, 1_000);
        await hold.RollbackAsync().DefaultTimeout();
        var cs = server.ConnectionString;
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(cs, "team-held") >= accepted.Count,
            what: accepted.Count + " rows");
        AssertRowsEqual(accepted, await PushFlowRows.ReadAsync(cs, "team-held").DefaultTimeout(), "team-held");
    }
}
