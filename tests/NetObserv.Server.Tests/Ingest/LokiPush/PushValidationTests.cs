using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using NetObserv.Flows;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Ingest.LokiPush;

/// <summary>
/// Pushed lines whose flow the store cannot hold, against the whole server: each is answered 400 with its
/// reason like any other bad line, the good lines of the same push are stored, and a good push from another
/// client right after is stored within seconds (nothing poisons the writer).
/// </summary>
public sealed class PushValidationTests
{
    private static readonly Uri s_push = new("/loki/api/v1/push", UriKind.Relative);
    private static readonly TimeSpan s_stored = TimeSpan.FromSeconds(10);

    internal static FlowRecord Flow(string hash, long endMs) => new()
    {
        TimeFlowStartMs = endMs - 2_000,
        TimeFlowEndMs = endMs,
        TimeReceived = endMs / 1000,
        Etype = 2048,
        SrcAddr = IPAddress.Parse("10.128.0.1"),
        DstAddr = IPAddress.Parse("10.128.0.2"),
        Proto = 6,
        SrcPort = 40_000,
        DstPort = 8080,
        Bytes = 1_000,
        Packets = 3,
        FlowDirection = 1,
        Src = new KubernetesMetadata { Namespace = "shop", OwnerName = "web", Type = "Pod" },
        Dst = new KubernetesMetadata { Namespace = "data", OwnerName = "db", Type = "Pod" },
        K8SFlowLayer = "app",
        HashId = hash,
    };

    /// <summary>Letters that do not compress, so PostgreSQL cannot shrink an index entry holding them.</summary>
    private static string RandomText(int length, int seed)
    {
        var random = new Random(seed);
        return string.Create(length, random, static (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + r.Next(26));
            }
        });
    }

    internal static async Task<HttpResponseMessage> PushAsync(RunningServer server, string tenant, IEnumerable<PushStream> streams)
    {
        using var http = new HttpClient { BaseAddress = server.Http.BaseAddress, Timeout = Timeouts.Default };
        using var request = new HttpRequestMessage(HttpMethod.Post, s_push)
        {
            Content = new ByteArrayContent(PushBodies.SnappyProtobuf(streams)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-protobuf");
        request.Headers.Add("X-Scope-OrgID", tenant);
        return await http.SendAsync(request).DefaultTimeout();
    }

    private static async Task AssertGoodPushStoredAsync(RunningServer server, long endMs)
    {
        using var response = await PushAsync(server, "team-after", [PushBodies.FlpStream(Flow("after", endMs))]);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(server.ConnectionString, "team-after") == 1,
            s_stored, "the other client's line");
    }

    internal static Task<RunningServer> StartAsync() => RunningServer.StartAsync(new Dictionary<string, string?>
    {
        ["Storage:FlushInterval"] = "00:00:00.050",
    });

    [Fact]
    public async Task Push_ThreeKilobyteNamespace_Answers400WithReasonAndNextPushIsStored()
    {
        await using var server = await StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var inLine = Flow("ns-line", now - 1_000);
        inLine.Src.Namespace = RandomText(3_000, 1);
        var asLabel = Flow("ns-label", now - 1_000);
        asLabel.Src.Namespace = RandomText(3_000, 2);

        using var response = await PushAsync(server, "team-ns",
            [PushBodies.FlpStream(inLine, labelFields: []), PushBodies.FlpStream(asLabel)]);
        var message = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("2 of 2 lines rejected", message, StringComparison.Ordinal);
        Assert.Contains("text_too_long", message, StringComparison.Ordinal);
        Assert.Contains("SrcK8S_Namespace", message, StringComparison.Ordinal);
        await AssertGoodPushStoredAsync(server, now);
        Assert.Equal(0, await PushFlowRows.CountAsync(server.ConnectionString, "team-ns"));
    }

    [Fact]
    public async Task Push_OneMegabyteOwnerNameLabel_Answers400AndNextPushIsStored()
    {
        await using var server = await StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var huge = Flow("owner", now - 1_000);
        huge.Src.OwnerName = RandomText(1024 * 1024, 3);

        using var response = await PushAsync(server, "team-owner", [PushBodies.FlpStream(huge)]);
        var message = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("SrcK8S_OwnerName", message, StringComparison.Ordinal);
        Assert.True(message.Length < 4096, $"a {message.Length}-character answer");
        await AssertGoodPushStoredAsync(server, now);
        Assert.Equal(0, await PushFlowRows.CountAsync(server.ConnectionString, "team-owner"));
    }

    [Fact]
    public async Task Push_OutOfRangeValuesAndTimes_EachLineRejectedWithReasonGoodLinesStored()
    {
        await using var server = await StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var nowNs = now * 1_000_000;
        var negativeBytes = Flow("bytes", now - 1_000);
        negativeBytes.Bytes = -5;
        var port = Flow("port", now - 1_000);
        port.SrcPort = 70_000;
        var protocol = Flow("proto", now - 1_000);
        protocol.Proto = 300;
        var direction = Flow("direction", now - 1_000);
        direction.FlowDirection = 99; // FlowDirection is a label: "99"
        var year1900 = Flow("y1900", new DateTimeOffset(1900, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        var year1969 = Flow("y1969", new DateTimeOffset(1969, 7, 20, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        var year9999 = Flow("y9999", new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        var good = Flow("good", now - 1_000);
        var streams = new[] { good, negativeBytes, port, protocol, direction, year1900, year1969, year9999 }
            .Select(f => PushBodies.FlpStream(f))
            // The entry timestamp is now: only the line's times are out of range.
            .Select(s => s with { Entries = [s.Entries[0] with { TimestampNs = nowNs }] })
            .ToList();
        // FlowRecordJson leaves a counter that is not positive out of the line: write it in.
        var line = JsonNode.Parse(streams[1].Entries[0].Line)!.AsObject();
        line["Bytes"] = -5;
        streams[1] = streams[1] with { Entries = [streams[1].Entries[0] with { Line = line.ToJsonString() }] };

        using var response = await PushAsync(server, "team-values", streams);
        var message = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("7 of 8 lines rejected, 1 accepted (", message, StringComparison.Ordinal);
        Assert.Contains("counter_out_of_range: 1", message, StringComparison.Ordinal);
        Assert.Contains("value_out_of_range: 3", message, StringComparison.Ordinal);
        Assert.Contains("too_old: 2", message, StringComparison.Ordinal);
        Assert.Contains("too_far_in_future: 1", message, StringComparison.Ordinal);
        Assert.Contains("Bytes -5", message, StringComparison.Ordinal);
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(server.ConnectionString, "team-values") == 1,
            s_stored, "the good line");
        var rows = await PushFlowRows.ReadAsync(server.ConnectionString, "team-values").DefaultTimeout();
        Assert.Equal("good", Assert.Single(rows).HashId);
        await AssertGoodPushStoredAsync(server, now);
    }
}
