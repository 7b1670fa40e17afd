using System.Text.Json.Nodes;
using Google.Protobuf;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>
/// <c>deploy/grafana-plugin/netobserv-overview-typed.json</c>: every panel reads the plugin's data source,
/// and every target, its variables on All, is a query the published plugin answers with frames.
/// </summary>
[Collection(PluginTestGroup.Name)]
public sealed class TypedDashboardTests
{
    private readonly PluginFixture _fixture;

    public TypedDashboardTests(PluginFixture fixture)
    {
        _fixture = fixture;
    }

    private static JsonObject Dashboard() => JsonNode.Parse(File.ReadAllText(
        Path.Combine(PublishedPlugin.Root, "deploy", "grafana-plugin", "netobserv-overview-typed.json")))!.AsObject();

    [Fact]
    public async Task Targets_VariablesOnAll_AnsweredWithFramesByThePlugin()
    {
        var dashboard = Dashboard();
        var variable = dashboard["templating"]!["list"]!.AsArray().Single(v => (string?)v!["name"] == "datasource")!;
        Assert.Equal(PublishedPlugin.PluginId, (string?)variable["query"]);

        var panels = dashboard["panels"]!.AsArray().Select(p => p!).ToList();
        Assert.NotEmpty(panels);
        foreach (var panel in panels)
        {
            Assert.Equal(PublishedPlugin.PluginId, (string?)panel["datasource"]!["type"]);
            foreach (var target in panel["targets"]!.AsArray())
            {
                var model = target!.DeepClone().AsObject();
                model.Remove("datasource");

                // What the front end sends for a variable on All: an empty filter.
                var json = model.ToJsonString().Replace("$src_namespace", "", StringComparison.Ordinal)
                    .Replace("$dst_namespace", "", StringComparison.Ordinal);
                Assert.DoesNotContain("$", json, StringComparison.Ordinal);
                var request = new QueryDataRequest { PluginContext = _fixture.Context() };
                request.Queries.Add(new DataQuery
                {
                    RefId = "A",
                    Json = ByteString.CopyFromUtf8(json),
                    IntervalMS = 60_000,
                    MaxDataPoints = 1000,
                    TimeRange = new TimeRange
                    {
                        FromEpochMS = QueryTestFlows.OriginMs,
                        ToEpochMS = QueryTestFlows.OriginMs + (31 * 60_000),
                    },
                });

                var response = (await _fixture.Data.QueryDataAsync(request).ResponseAsync.DefaultTimeout()).Responses["A"];

                Assert.True(string.IsNullOrEmpty(response.Error), $"{panel["title"]}: {response.Error}");
                Assert.NotEmpty(response.Frames);
            }
        }
    }
}
