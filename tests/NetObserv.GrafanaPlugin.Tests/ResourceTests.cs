using System.Text.Json;
using Grpc.Core;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary><c>CallResource</c>: label names and values in Loki's JSON shape, for pickers and template variables.</summary>
[Collection(PluginTestGroup.Name)]
public sealed class ResourceTests
{
    private readonly PluginFixture _fixture;

    public ResourceTests(PluginFixture fixture)
    {
        _fixture = fixture;
    }

    private async Task<(int Code, JsonElement Body)> CallAsync(string path, string method = "GET", string query = "")
    {
        using var call = _fixture.Resources.CallResource(new CallResourceRequest
        {
            PluginContext = _fixture.Context(),
            Path = path,
            Method = method,
            Url = path + query,
        });
        var responses = new List<CallResourceResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            responses.Add(response);
        }

        var single = Assert.Single(responses);
        Assert.Equal("application/json", Assert.Single(single.Headers["Content-Type"].Values));
        using var doc = JsonDocument.Parse(single.Body.Memory);
        return (single.Code, doc.RootElement.Clone());
    }

    [Fact]
    public async Task CallResource_LabelValues_TheNamespacesInLokisShape()
    {
        var start = (QueryTestFlows.OriginMs - 60_000) * 1_000_000;
        var end = (QueryTestFlows.OriginMs + 3_600_000) * 1_000_000;

        var (code, body) = await CallAsync("label/SrcK8S_Namespace/values", query: $"?start={start}&end={end}").DefaultTimeout();

        Assert.Equal(200, code);
        Assert.Equal("success", body.GetProperty("status").GetString());
        Assert.Equal(QueryTestFlows.Namespaces.Order(StringComparer.Ordinal),
            body.GetProperty("data").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task CallResource_Labels_StreamLabelNames()
    {
        var (code, body) = await CallAsync("labels").DefaultTimeout();

        Assert.Equal(200, code);
        Assert.Contains("SrcK8S_Namespace", body.GetProperty("data").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task CallResource_UnknownPathOrMethod_404And405WithAMessage()
    {
        var (notFound, body) = await CallAsync("series").DefaultTimeout();
        var (notAllowed, _) = await CallAsync("labels", method: "POST").DefaultTimeout();

        Assert.Equal(404, notFound);
        Assert.Contains("no resource", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(405, notAllowed);
    }
}
