using System.Text.Json.Nodes;

namespace NetObserv.Server.Tests.Deploy;

public sealed class DashboardTests
{
    private static readonly string[] s_queryTypes = ["range", "instant"];

    private const string DedupFilter = "| FlowDirection!=\"1\" or DstK8S_OwnerName=\"\"";

    private static readonly Dictionary<string, (string Uid, string[] Panels)> s_expected = new(StringComparer.Ordinal)
    {
        ["netobserv-overview.json"] = ("netobserv-overview",
        [
            "Total flows/s", "Packets/s",
            "Flows/s by source namespace", "Flows/s by destination namespace",
            "Bytes/s by source namespace", "Bytes/s by destination namespace",
            "Bytes/s by source workload", "Bytes/s by destination workload",
            "Top 10 talkers: namespace pairs", "Top 10 talkers: workload pairs",
            "Flows", "Flow table",
        ]),
        ["netobserv-workload.json"] = ("netobserv-workload",
        [
            "Ingress bytes/s by peer", "Egress bytes/s by peer", "Connections by destination port",
            "Flows", "Flow table",
        ]),
    };

    [Fact]
    public void Dashboards_Files_HaveStableUidsAndThePanelsListed()
    {
        var dashboards = RepositoryFiles.Dashboards();

        Assert.Equal(s_expected.Keys.Order(StringComparer.Ordinal), dashboards.Keys);
        foreach (var (file, dashboard) in dashboards)
        {
            Assert.Equal(s_expected[file].Uid, (string?)dashboard["uid"]);
            Assert.Equal(39, (int?)dashboard["schemaVersion"]);
            Assert.Equal(s_expected[file].Panels, Panels(dashboard).Select(p => (string)p["title"]!));
            var ids = Panels(dashboard).Select(p => (int)p["id"]!).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
        }
    }

    [Fact]
    public void Dashboards_EveryQuery_IsSaneLogQL()
    {
        foreach (var (file, dashboard) in RepositoryFiles.Dashboards())
        {
            var variables = Variables(dashboard).Select(v => (string)v["name"]!).ToHashSet(StringComparer.Ordinal);
            foreach (var (panel, target) in DashboardTargets(dashboard))
            {
                var expr = (string)target["expr"]!;
                var problems = LogQLShape.Problems(expr, variables);
                Assert.True(problems.Count == 0, $"{file} / {panel["title"]}: {string.Join("; ", problems)}\n{expr}");
                Assert.Contains("app=\"netobserv-flowcollector\"", expr, StringComparison.Ordinal);
                Assert.Contains((string?)target["queryType"], s_queryTypes);
            }
        }
    }

    [Fact]
    public void Dashboards_EveryQuery_CountsEachFlowOnceAndSaysHow()
    {
        foreach (var (file, dashboard) in RepositoryFiles.Dashboards())
        {
            foreach (var (panel, target) in DashboardTargets(dashboard))
            {
                var expr = (string)target["expr"]!;
                Assert.True(expr.Contains(DedupFilter, StringComparison.Ordinal), $"{file} / {panel["title"]}: {expr}");
                var description = (string?)panel["description"] ?? string.Empty;
                Assert.Contains("counted once", description, StringComparison.Ordinal);
                Assert.Contains(DedupFilter.TrimStart('|', ' '), description, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Dashboards_VolumePanels_UnwrapSamplingCorrectedFieldsAndDescribeSampling()
    {
        var volumePanels = 0;
        foreach (var (file, dashboard) in RepositoryFiles.Dashboards())
        {
            foreach (var panel in Panels(dashboard))
            {
                var exprs = PanelTargets(panel).Select(t => (string)t["expr"]!).ToList();
                var unit = (string?)panel["fieldConfig"]?["defaults"]?["unit"];
                if (unit is not ("Bps" or "bytes" or "pps"))
                {
                    Assert.DoesNotContain(exprs, e => e.Contains("unwrap", StringComparison.Ordinal));
                    continue;
                }

                volumePanels++;
                var field = unit == "pps" ? "SampledPackets" : "SampledBytes";
                Assert.All(exprs, e => Assert.Contains("| unwrap " + field + " ", e, StringComparison.Ordinal));
                var description = (string?)panel["description"] ?? string.Empty;
                Assert.True(description.Contains("Sampling", StringComparison.Ordinal)
                    && description.Contains("unwrap " + field, StringComparison.Ordinal),
                    $"{file} / {panel["title"]} does not say how sampling is handled");
            }
        }

        Assert.Equal(9, volumePanels);
    }

    [Fact]
    public void Dashboards_Variables_AreLokiDatasourceAndLabelValues()
    {
        foreach (var (file, dashboard) in RepositoryFiles.Dashboards())
        {
            var variables = Variables(dashboard).ToList();
            var names = variables.Select(v => (string)v["name"]!).ToHashSet(StringComparer.Ordinal);
            var datasource = Assert.Single(variables, v => (string?)v["type"] == "datasource");
            Assert.Equal("datasource", (string?)datasource["name"]);
            Assert.Equal("loki", (string?)datasource["query"]);

            var queries = variables.Where(v => (string?)v["type"] == "query").ToList();
            Assert.Equal(variables.Count - 1, queries.Count);
            Assert.Contains(queries, v => ((string)v["name"]!).Contains("namespace", StringComparison.Ordinal));
            Assert.Contains(queries, v => ((string)v["name"]!).Contains("workload", StringComparison.Ordinal));
            foreach (var variable in queries)
            {
                var query = (string)variable["query"]!;
                Assert.Equal(query, (string?)variable["definition"]);
                Assert.Equal("${datasource}", (string?)variable["datasource"]?["uid"]);
                var parsed = LogQLShape.ParseLabelValues(query);
                Assert.True(parsed is not null, $"{file}: {query} is not label_values({{selector}}, label)");
                Assert.Contains(parsed.Value.Label, LogQLShape.StreamLabels);
                Assert.Empty(LogQLShape.Problems(parsed.Value.Selector, names));
                if ((bool?)variable["multi"] == true)
                {
                    // Include-all must also match flows whose label is empty (outside the cluster).
                    Assert.True((bool?)variable["includeAll"]);
                    Assert.Equal(".*", (string?)variable["allValue"]);
                }
            }
        }
    }

    [Fact]
    public void Dashboards_EveryPanelAndTarget_UseTheDatasourceVariable()
    {
        foreach (var (_, dashboard) in RepositoryFiles.Dashboards())
        {
            foreach (var panel in Panels(dashboard))
            {
                Assert.Equal("loki", (string?)panel["datasource"]?["type"]);
                Assert.Equal("${datasource}", (string?)panel["datasource"]?["uid"]);
                Assert.NotEmpty(PanelTargets(panel));
                Assert.All(PanelTargets(panel), t => Assert.Equal("${datasource}", (string?)t["datasource"]?["uid"]));
            }
        }
    }

    [Fact]
    public void FlowTables_Columns_AreTheChosenOnes()
    {
        string[] columns =
        [
            "Time", "SrcK8S_Namespace", "SrcK8S_OwnerName", "SrcAddr", "SrcPort", "DstK8S_Namespace",
            "DstK8S_OwnerName", "DstAddr", "DstPort", "Proto", "Bytes", "Packets", "FlowDirection",
        ];
        foreach (var (_, dashboard) in RepositoryFiles.Dashboards())
        {
            var table = Assert.Single(Panels(dashboard), p => (string?)p["type"] == "table");
            Assert.Single(Panels(dashboard), p => (string?)p["type"] == "logs");
            var filter = Assert.Single(table["transformations"]!.AsArray(),
                t => (string?)t!["id"] == "filterFieldsByName");
            var pattern = new System.Text.RegularExpressions.Regex((string)filter!["options"]!["include"]!["pattern"]!);
            Assert.All(columns, c => Assert.Matches(pattern, c));
            Assert.DoesNotMatch(pattern, "SrcMac");
            Assert.All(PanelTargets(table), t => Assert.EndsWith("| json", (string)t["expr"]!, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("sum(rate({app=\"netobserv-flowcollector\"}[$__interval])")]
    [InlineData("sum(rate({app=\"netobserv-flowcollector\"}[$__interval)))")]
    [InlineData("{app=\"netobserv-flowcollector\", SrcAddr=\"10.0.0.1\"}")]
    [InlineData("{app=\"netobserv-flowcollector\", SrcK8S_Namespace=~\"$nope\"}")]
    [InlineData("{app=\"netobserv-flowcollector\" | json")]
    [InlineData("{app=\"netobserv-flowcollector\", SrcK8S_Namespace}")]
    [InlineData("{app=\"netobserv-flowcollector} | json")]
    public void LogQLShape_BrokenQuery_IsReported(string expr)
    {
        var problems = LogQLShape.Problems(expr, new HashSet<string>(StringComparer.Ordinal) { "namespace" });

        Assert.NotEmpty(problems);
    }

    internal static IEnumerable<JsonObject> Panels(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().Select(p => p!.AsObject());

    internal static IEnumerable<JsonObject> Variables(JsonObject dashboard) =>
        dashboard["templating"]!["list"]!.AsArray().Select(v => v!.AsObject());

    private static IEnumerable<JsonObject> PanelTargets(JsonObject panel) =>
        panel["targets"]?.AsArray().Select(t => t!.AsObject()) ?? [];

    private static IEnumerable<(JsonObject Panel, JsonObject Target)> DashboardTargets(JsonObject dashboard) =>
        Panels(dashboard).SelectMany(p => PanelTargets(p).Select(t => (p, t)));
}
