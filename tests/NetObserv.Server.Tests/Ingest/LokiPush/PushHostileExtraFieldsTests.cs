using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Ingest.LokiPush;

/// <summary>
/// Hostile fields without a column, pushed to the whole server: values nested too deep, 200 KiB and 1 MiB of
/// text, numbers past any integer, NUL characters and hundreds of structured metadata pairs. Each bounded
/// field is dropped and counted, the rest of its flow is stored, nothing else is lost, and a good push from
/// another client right after is stored within seconds.
/// </summary>
public sealed class PushHostileExtraFieldsTests
{
    /// <summary>A flowlogs-pipeline stream of one flow whose line gets <paramref name="extra"/> added as raw JSON.</summary>
    private static PushStream WithExtra(string hash, long endMs, string extra,
        IReadOnlyList<KeyValuePair<string, string>>? metadata = null)
    {
        var stream = PushBodies.FlpStream(PushValidationTests.Flow(hash, endMs));
        var line = stream.Entries[0].Line;
        var text = string.Concat(line.AsSpan(0, line.Length - 1), ",", extra, "}");
        return stream with { Entries = [stream.Entries[0] with { Line = text, Metadata = metadata }] };
    }

    private static async Task<Dictionary<string, JsonObject?>> ExtraFieldsAsync(RunningServer server, string tenant, int expected)
    {
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(server.ConnectionString, tenant) >= expected,
            TimeSpan.FromSeconds(10), $"{expected} rows of {tenant}");
        var rows = await PushFlowRows.ReadAsync(server.ConnectionString, tenant).DefaultTimeout();
        Assert.Equal(expected, rows.Count);
        return rows.ToDictionary(r => r.HashId!,
            r => r.ExtraFields is null ? null : JsonNode.Parse(r.ExtraFields)!.AsObject(), StringComparer.Ordinal);
    }

    private static long ExtraFieldsDropped(string metrics)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith("netobserv_ingest_extra_fields_dropped", StringComparison.Ordinal) && !line.Contains('#'))
            {
                return long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    [Fact]
    public async Task Push_HostileExtraFields_EachBoundedFieldDroppedAndCountedFlowsKeptServerServes()
    {
        await using var server = await PushValidationTests.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var twentyDeep = new string('[', 20) + new string(']', 20);
        var large = new string('x', 200 * 1024);
        var metadata = Enumerable.Range(0, 500)
            .Select(i => new KeyValuePair<string, string>(string.Create(CultureInfo.InvariantCulture, $"meta_{i}"), "v"))
            .ToList();
        var streams = new[]
        {
            WithExtra("deep", now - 1_000, $"\"too_deep\":{twentyDeep},\"kept\":\"a\""),
            WithExtra("huge", now - 1_000, $"\"huge\":\"{large}\",\"kept\":\"b\""),
            WithExtra("numbers", now - 1_000,
                "\"past_double\":1e400,\"long_number\":123456789012345678901234567890123456789012345,"
                + "\"past_int64\":92233720368547758070,\"kept\":\"c\""),
            WithExtra("nul", now - 1_000, "\"with_nul\":\"a\\u0000b\",\"nul\\u0000name\":1"),
            WithExtra("metadata", now - 1_000, "\"kept\":\"d\"", metadata),
        };

        using var response = await PushValidationTests.PushAsync(server, "team-hostile", streams);
        var answer = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{(int)response.StatusCode}: {answer}");
        var rows = await ExtraFieldsAsync(server, "team-hostile", 5);

        // Nested past 16 levels: that field dropped, the flow's other fields kept.
        Assert.Equal("a", (string?)rows["deep"]!["kept"]);
        Assert.False(rows["deep"]!.ContainsKey("too_deep"));
        // Past the 8 KiB bound of a flow's extra fields.
        Assert.Equal("b", (string?)rows["huge"]!["kept"]);
        Assert.False(rows["huge"]!.ContainsKey("huge"));
        // Numbers: not a finite double, or written with more than 40 characters, are dropped; a finite
        // number past int64 is kept as the JSON number it is.
        Assert.Equal("c", (string?)rows["numbers"]!["kept"]);
        Assert.False(rows["numbers"]!.ContainsKey("past_double"));
        Assert.False(rows["numbers"]!.ContainsKey("long_number"));
        Assert.Equal("92233720368547758070", rows["numbers"]!["past_int64"]!.ToJsonString());
        // NUL, which PostgreSQL cannot store, becomes U+FFFD in names and values.
        Assert.Equal("a\uFFFDb", (string?)rows["nul"]!["with_nul"]);
        Assert.Equal(1, (int?)rows["nul"]!["nul\uFFFDname"]);
        // Structured metadata: the first 64 pairs of an entry are kept, the other 436 dropped and counted.
        var kept = rows["metadata"]!;
        Assert.Equal("d", (string?)kept["kept"]);
        Assert.Equal(64, kept.Count(p => p.Key.StartsWith("meta_", StringComparison.Ordinal)));
        Assert.True(Encoding.UTF8.GetByteCount(kept.ToJsonString()) <= 8 * 1024);

        var metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();
        Assert.Equal(4 + 436, ExtraFieldsDropped(metrics));

        // Another client's good push right after is stored at once.
        using var after = await PushValidationTests.PushAsync(server, "team-after", [PushBodies.FlpStream(PushValidationTests.Flow("after", now))]);
        Assert.Equal(HttpStatusCode.NoContent, after.StatusCode);
        await ExtraFieldsAsync(server, "team-after", 1);
    }

    [Fact]
    public async Task Push_LinesNestedFiveThousandDeepOrOfAMegabyte_Answers400NamingThemAndStoresTheOthers()
    {
        await using var server = await PushValidationTests.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var deep = new string('[', 5_000) + new string(']', 5_000);
        var streams = new[]
        {
            WithExtra("good", now - 1_000, "\"kept\":\"a\""),
            WithExtra("abyss", now - 1_000, $"\"abyss\":{deep}"),
            WithExtra("megabyte", now - 1_000, $"\"megabyte\":\"{new string('x', 1024 * 1024)}\""),
        };

        using var response = await PushValidationTests.PushAsync(server, "team-abyss", streams);
        var answer = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("2 of 3 lines rejected", answer, StringComparison.Ordinal);
        Assert.Contains("line_too_long: 1", answer, StringComparison.Ordinal);
        Assert.Contains("invalid_line: 1", answer, StringComparison.Ordinal);
        Assert.True(answer.Length < 4096, $"a {answer.Length}-character answer");
        var rows = await ExtraFieldsAsync(server, "team-abyss", 1);
        Assert.Equal("a", (string?)rows["good"]!["kept"]);
    }
}
