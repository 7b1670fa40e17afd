using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NetObserv.Server.Tests.Deploy;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Demo;

/// <summary>
/// Every query of every panel and variable of <c>dashboards/*.json</c>, substituted as Grafana would for
/// the dashboards' default range (the last hour) and a 1000-pixel panel, against the server running the
/// demo: each parses and returns data, and a volumetry panel equals a sum computed here in SQL.
/// </summary>
[Collection(DemoTestGroup.Name)]
public sealed partial class DashboardQueryTests : IClassFixture<DemoServerFixture>
{
    private const long RangeMs = 3_600_000;
    private readonly DemoServerFixture _demo;

    public DashboardQueryTests(DemoServerFixture demo)
    {
        _demo = demo;
    }

    public static TheoryData<string, string> Selections() => new()
    {
        { "netobserv-overview.json", "all" },
        { "netobserv-overview.json", "two" },
        { "netobserv-workload.json", "first" },
    };

    [Theory]
    [MemberData(nameof(Selections))]
    public async Task DashboardQueries_DemoData_EveryPanelAndVariableReturnsData(string file, string selection)
    {
        var dashboard = RepositoryFiles.Dashboards()[file];
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var startMs = endMs - RangeMs;
        var values = await ResolveVariablesAsync(dashboard, startMs, endMs, selection);

        var checkedTargets = 0;
        foreach (var panel in Panels(dashboard["panels"]!.AsArray()))
        {
            foreach (var target in panel["targets"]?.AsArray() ?? [])
            {
                var instant = target!["queryType"]?.GetValue<string>() == "instant";
                var expr = GrafanaTemplating.Interpolate(target["expr"]!.GetValue<string>(), values, RangeMs, instant);
                var what = $"{file} / {panel["title"]} / {target["refId"]}: {expr}";
                var result = await QueryAsync(expr, startMs, endMs, instant, what);
                var resultType = result["resultType"]!.GetValue<string>();
                Assert.True(resultType == (instant ? "vector" : expr.StartsWith('{') ? "streams" : "matrix"),
                    $"{what}: unexpected result type {resultType}");
                var series = result["result"]!.AsArray();
                Assert.True(series.Count > 0, $"{what}: no data");
                if (resultType != "vector")
                {
                    Assert.True(series.All(s => s!["values"]!.AsArray().Count > 0), $"{what}: a series without values");
                }

                checkedTargets++;
            }
        }

        Assert.True(checkedTargets >= 8, $"{file}: only {checkedTargets} targets found");
    }

    [Fact]
    public async Task TopTalkersPanel_DemoData_EqualsSqlSumOverFlows()
    {
        var dashboard = RepositoryFiles.Dashboards()["netobserv-overview.json"];
        var panel = Panels(dashboard["panels"]!.AsArray())
            .Single(p => p["title"]!.GetValue<string>() == "Top 10 talkers: namespace pairs");
        var target = panel["targets"]!.AsArray().Single()!;
        Assert.Equal("instant", target["queryType"]!.GetValue<string>());

        // A whole minute at least a minute old: every flow ending before it has been written.
        var endMs = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000) / 60_000 * 60_000;
        var startMs = endMs - RangeMs;
        var values = await ResolveVariablesAsync(dashboard, startMs, endMs, "all");
        var expr = GrafanaTemplating.Interpolate(target["expr"]!.GetValue<string>(), values, RangeMs, instant: true);
        Assert.Contains("[3600s]", expr, StringComparison.Ordinal);

        var result = await QueryAsync(expr, startMs, endMs, instant: true, expr);
        var panelValues = new Dictionary<(string, string), double>();
        foreach (var series in result["result"]!.AsArray())
        {
            var metric = series!["metric"]!.AsObject();
            var key = (metric["SrcK8S_Namespace"]?.GetValue<string>() ?? "", metric["DstK8S_Namespace"]?.GetValue<string>() ?? "");
            panelValues[key] = double.Parse(series["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
        }

        // The same sum, independently: the panel's window (end - 1h, end] on time_end, the panel's
        // de-duplication (FlowDirection!="1" or DstK8S_OwnerName=""), grouped by the namespace pair.
        var expected = new Dictionary<(string, string), double>();
        await using (var connection = new NpgsqlConnection(_demo.Server.ConnectionString))
        {
            await connection.OpenAsync().DefaultTimeout();
            await using var command = new NpgsqlCommand(
                """
                SELECT coalesce(src_k8s_namespace, ''), coalesce(dst_k8s_namespace, ''), sum(bytes * greatest(coalesce(sampling, 1), 1))::float8
                FROM flows
                WHERE time_end > @from AND time_end <= @to
                  AND (flow_direction IS DISTINCT FROM 1 OR coalesce(dst_k8s_owner_name, '') = '')
                GROUP BY 1, 2
                ORDER BY 3 DESC
                LIMIT 10
                """, connection);
            command.Parameters.AddWithValue("from", DateTimeOffset.FromUnixTimeMilliseconds(startMs));
            command.Parameters.AddWithValue("to", DateTimeOffset.FromUnixTimeMilliseconds(endMs));
            await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
            while (await reader.ReadAsync())
            {
                expected[(reader.GetString(0), reader.GetString(1))] = reader.GetDouble(2);
            }
        }

        Assert.Equal(10, expected.Count);
        Assert.Equal(expected.Keys.Order(), panelValues.Keys.Order());
        foreach (var (key, sum) in expected)
        {
            Assert.True(Math.Abs(panelValues[key] - sum) <= sum * 1e-9,
                $"{key}: panel {panelValues[key]}, SQL {sum}");
        }

        // Heavy hitters carry most bytes: the top pair is one of them.
        Assert.Contains(expected.MaxBy(e => e.Value).Key, new[] { ("analytics", "analytics"), ("payments", "payments") });
    }

    /// <summary>
    /// Resolves the dashboard's variables in order, as Grafana does: each query variable's
    /// <c>label_values</c> is asked of the datasource (after substituting the variables before it) and must
    /// return values; then <paramref name="selection"/> picks <c>all</c>, the <c>first</c> value, or the
    /// <c>two</c> first values of the first multi-value variable (the others All).
    /// </summary>
    private async Task<Dictionary<string, string>> ResolveVariablesAsync(JsonObject dashboard, long startMs, long endMs,
        string selection)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var pickedTwo = false;
        foreach (var variable in dashboard["templating"]!["list"]!.AsArray().Select(v => v!.AsObject()))
        {
            var name = variable["name"]!.GetValue<string>();
            var type = variable["type"]!.GetValue<string>();
            if (type == "datasource")
            {
                values[name] = variable["current"]?["value"]?.GetValue<string>() ?? "netobserv-loki";
                continue;
            }

            Assert.Equal("query", type);
            var query = variable["query"]!.GetValue<string>();
            var match = LabelValuesPattern().Match(query);
            Assert.True(match.Success, $"variable {name}: unsupported query {query}");
            var selector = match.Groups["selector"].Success
                ? GrafanaTemplating.Interpolate(match.Groups["selector"].Value, values, endMs - startMs, instant: false)
                : null;
            var label = match.Groups["label"].Value;
            var url = $"/loki/api/v1/label/{Uri.EscapeDataString(label)}/values?start={startMs * 1_000_000}&end={endMs * 1_000_000}"
                + (selector is null ? "" : "&query=" + Uri.EscapeDataString(selector));
            using var response = await _demo.Server.Http.GetAsync(new Uri(url, UriKind.Relative)).DefaultTimeout();
            var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
            Assert.True(response.IsSuccessStatusCode, $"variable {name}: {url} -> {(int)response.StatusCode} {body}");
            var options = JsonNode.Parse(body)!["data"]!.AsArray().Select(v => v!.GetValue<string>())
                .Where(v => v.Length > 0).Order(StringComparer.Ordinal).ToList();
            Assert.True(options.Count > 0, $"variable {name}: {selector} has no {label} values");

            var includeAll = variable["includeAll"]?.GetValue<bool>() == true;
            var multi = variable["multi"]?.GetValue<bool>() == true;
            if (selection == "two" && multi && !pickedTwo && options.Count >= 2)
            {
                pickedTwo = true;
                values[name] = GrafanaTemplating.Format(variable, options.Take(2).ToList(), options, all: false);
            }
            else if (includeAll && selection != "first")
            {
                values[name] = GrafanaTemplating.Format(variable, [], options, all: true);
            }
            else
            {
                values[name] = GrafanaTemplating.Format(variable, [options[0]], options, all: false);
            }
        }

        Assert.True(selection != "two" || pickedTwo, "no multi-value variable to pick two values of");
        return values;
    }

    private async Task<JsonObject> QueryAsync(string expr, long startMs, long endMs, bool instant, string what)
    {
        var query = Uri.EscapeDataString(expr);
        var url = instant
            ? $"/loki/api/v1/query?direction=backward&query={query}&time={endMs * 1_000_000}"
            : $"/loki/api/v1/query_range?direction=backward&end={endMs * 1_000_000}&limit=1000&query={query}"
              + $"&start={startMs * 1_000_000}&step={GrafanaTemplating.StepMs(endMs - startMs)}ms";
        using var response = await _demo.Server.Http.GetAsync(new Uri(url, UriKind.Relative)).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.IsSuccessStatusCode, $"{what}: HTTP {(int)response.StatusCode}: {body}");
        var json = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("success", json["status"]!.GetValue<string>());
        return json["data"]!.AsObject();
    }

    private static IEnumerable<JsonObject> Panels(JsonArray panels)
    {
        foreach (var panel in panels.Select(p => p!.AsObject()))
        {
            yield return panel;
            if (panel["panels"] is JsonArray nested)
            {
                foreach (var inner in Panels(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    [GeneratedRegex(@"^\s*label_values\(\s*(?:(?<selector>\{.*\})\s*,\s*)?(?<label>[A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")]
    private static partial Regex LabelValuesPattern();
}
