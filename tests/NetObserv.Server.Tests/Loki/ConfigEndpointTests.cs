using System.Globalization;
using System.Net;
using NetObserv.Testing;
using YamlDotNet.RepresentationModel;

namespace NetObserv.Server.Tests.Loki;

/// <summary>The settings <c>GET /config</c> reports, over HTTP.</summary>
public sealed class ConfigEndpointFixture() : QueryServerFixture(QueryTestFlows.Generate(50, seed: 41),
    new Dictionary<string, string?>
    {
        ["Query:MaxEntries"] = "321",
        ["Query:MaxSeries"] = "7",
        ["Query:MaxQueryRange"] = "2.00:00:00",
        ["Query:QueryTimeout"] = "00:00:45",
        ["Storage:FlushInterval"] = "00:00:02",
    });

/// <summary>
/// <c>GET /config</c> answers YAML as Loki does, with <c>limits_config</c> (the values this backend enforces,
/// under Loki's names) and <c>ingester.max_chunk_age</c>, which the NetObserv console plugin reads; the values
/// are the configured ones and the queries past them are refused.
/// </summary>
public sealed class ConfigEndpointTests : IClassFixture<ConfigEndpointFixture>
{
    private readonly ConfigEndpointFixture _fixture;

    public ConfigEndpointTests(ConfigEndpointFixture fixture)
    {
        _fixture = fixture;
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string url)
    {
        using var response = await _fixture.Server.Http.GetAsync(new Uri(url, UriKind.Relative)).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private static string Scalar(YamlMappingNode root, string section, string key) =>
        ((YamlScalarNode)((YamlMappingNode)root.Children[new YamlScalarNode(section)]).Children[new YamlScalarNode(key)]).Value!;

    [Fact]
    public async Task Config_Yaml_LimitsAndMaxChunkAgeFromSettings()
    {
        var (status, body) = await GetAsync("/config");

        Assert.Equal(HttpStatusCode.OK, status);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(body));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("321", Scalar(root, "limits_config", "max_entries_limit_per_query"));
        Assert.Equal("7", Scalar(root, "limits_config", "max_query_series"));
        Assert.Equal("48h", Scalar(root, "limits_config", "max_query_length"));
        Assert.Equal("45s", Scalar(root, "limits_config", "query_timeout"));
        Assert.Equal("168h", Scalar(root, "limits_config", "retention_period"));
        Assert.Equal("2s", Scalar(root, "ingester", "max_chunk_age"));
    }

    [Fact]
    public async Task Config_ReportedLimits_AreTheOnesEnforced()
    {
        var now = QueryTestFlows.OriginMs * 1_000_000;
        string Ns(long ns) => ns.ToString(CultureInfo.InvariantCulture);
        var query = Uri.EscapeDataString("{app=\"netobserv-flowcollector\"}");

        var (entries, entriesBody) = await GetAsync($"/loki/api/v1/query_range?query={query}&limit=322&start={Ns(now)}&end={Ns(now + 60_000_000_000)}");
        var (length, lengthBody) = await GetAsync(
            $"/loki/api/v1/query_range?query={query}&limit=10&start={Ns(now - (49L * 3_600_000_000_000))}&end={Ns(now)}");
        var (ok, okBody) = await GetAsync($"/loki/api/v1/query_range?query={query}&limit=321&start={Ns(now)}&end={Ns(now + 60_000_000_000)}");

        Assert.True(entries == HttpStatusCode.BadRequest, entriesBody);
        Assert.Contains("max_entries_limit_per_query (322 > 321)", entriesBody, StringComparison.Ordinal);
        Assert.True(length == HttpStatusCode.BadRequest, lengthBody);
        Assert.Contains("limit: 2d", lengthBody, StringComparison.Ordinal);
        Assert.True(ok == HttpStatusCode.OK, okBody);
    }
}
