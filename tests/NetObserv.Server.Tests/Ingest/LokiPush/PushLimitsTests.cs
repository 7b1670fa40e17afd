using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Pipeline;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Flows.Validation;
using NetObserv.Server.Ingest;
using NetObserv.Server.Ingest.LokiPush;
using NetObserv.Storage;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Ingest.LokiPush;

/// <summary>
/// The push endpoint's answers to oversized, unsupported and throttled requests, over real HTTP on
/// 127.0.0.1 against the endpoint alone with an ingest channel nobody drains, so "full" is deterministic.
/// </summary>
public sealed class PushLimitsTests
{
    private const int MaxBodyBytes = 64 * 1024;
    private static readonly Uri s_push = new("/loki/api/v1/push", UriKind.Relative);

    private sealed class PushHost : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private PushHost(WebApplication app, FlowChannel channel, int port)
        {
            _app = app;
            Channel = channel;
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Timeouts.Default };
        }

        public FlowChannel Channel { get; }
        public HttpClient Http { get; }

        public static async Task<PushHost> StartAsync(int channelCapacity = 1_000,
            Dictionary<string, string?>? settings = null)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>
            {
                ["LokiPush:MaxBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            var channel = new FlowChannel(channelCapacity);
            builder.Services.AddMetrics();
            builder.Services.AddSingleton(channel);
            builder.Services.AddSingleton(new FlowValidator(TimeSpan.FromDays(7), TimeSpan.FromMinutes(10), TimeProvider.System));
            // The memory durability: a full channel is backpressure (429).
            builder.Services.AddSingleton(Options.Create(new StorageOptions { Durability = "memory" }));
            builder.Services.AddSingleton<FlowIngestService>();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            try
            {
                app.MapLokiPush();
                await app.StartAsync().DefaultTimeout();
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }

            return new PushHost(app, channel, new Uri(app.Urls.First()).Port);
        }

        public async Task<HttpResponseMessage> PostAsync(byte[] body, string? contentType, string? encoding = null,
            string? tenant = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, s_push) { Content = new ByteArrayContent(body) };
            if (contentType is not null)
            {
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }

            if (encoding is not null)
            {
                request.Content.Headers.ContentEncoding.Add(encoding);
            }

            if (tenant is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Scope-OrgID", tenant);
            }

            return await Http.SendAsync(request).DefaultTimeout();
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await _app.StopAsync().DefaultTimeout();
            await _app.DisposeAsync();
        }
    }

    private static readonly long s_now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;

    private static FlowRecord Flow(int i) => new()
    {
        TimeFlowStartMs = s_now + i,
        TimeFlowEndMs = s_now + 1_000 + i,
        TimeReceived = (s_now / 1000) + 2,
        SrcAddr = IPAddress.Parse($"10.0.0.{i + 1}"),
        DstAddr = IPAddress.Parse("10.0.1.1"),
        Proto = 6,
        Bytes = 100 + i,
        Packets = 1,
        FlowDirection = 1,
        Src = new KubernetesMetadata { Namespace = "shop", OwnerName = "web", Type = "Pod" },
        Dst = new KubernetesMetadata { Namespace = "data", OwnerName = "db", Type = "Pod" },
        K8SFlowLayer = "app",
        HashId = "h" + i,
    };

    private static byte[] Protobuf(int count) =>
        PushBodies.SnappyProtobuf(Enumerable.Range(0, count).Select(i => PushBodies.FlpStream(Flow(i))));

    private static async Task<string> TextAsync(HttpResponseMessage response) =>
        await response.Content.ReadAsStringAsync().DefaultTimeout();

    [Fact]
    public async Task Push_ChannelFull_Answers429AndAddsNothingThenAcceptsOnceDrained()
    {
        await using var host = await PushHost.StartAsync(channelCapacity: 4);
        Assert.True(host.Channel.TryWriteBatch([Flow(100), Flow(101), Flow(102)]));

        using var refused = await host.PostAsync(Protobuf(2), "application/x-protobuf", tenant: "t1");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        var why = await TextAsync(refused);
        Assert.StartsWith("ingest queue full (3 of ", why, StringComparison.Ordinal);
        Assert.EndsWith("batch of 2 refused, retry later", why, StringComparison.Ordinal);
        Assert.Equal(3, host.Channel.Count);

        var drained = new List<FlowRecord>();
        host.Channel.Drain(drained, 10);
        using var accepted = await host.PostAsync(Protobuf(2), "application/x-protobuf", tenant: "t1");

        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        var stored = new List<FlowRecord>();
        Assert.Equal(2, host.Channel.Drain(stored, 10));
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(FlowRecordJson.ToJson(Flow(i)), FlowRecordJson.ToJson(stored[i]));
            Assert.Equal("t1", stored[i].Tenant);
        }
    }

    [Fact]
    public async Task Push_ContentLengthOverLimit_Answers413()
    {
        await using var host = await PushHost.StartAsync();

        using var response = await host.PostAsync(new byte[MaxBodyBytes + 1], "application/json");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal($"request body of {MaxBodyBytes + 1} bytes exceeds the limit of {MaxBodyBytes} bytes",
            await TextAsync(response));
        Assert.Equal(0, host.Channel.Count);
    }

    [Fact]
    public async Task Push_GzipDecompressingOverLimit_Answers413()
    {
        await using var host = await PushHost.StartAsync();
        var json = Encoding.UTF8.GetBytes("{\"streams\":[],\"pad\":\"" + new string('a', MaxBodyBytes) + "\"}");
        using var gzipped = new MemoryStream();
        await using (var gzip = new GZipStream(gzipped, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(json);
        }

        Assert.True(gzipped.Length < MaxBodyBytes);

        using var response = await host.PostAsync(gzipped.ToArray(), "application/json", "gzip");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal($"request body exceeds the limit of {MaxBodyBytes} bytes (after decompression)",
            await TextAsync(response));
    }

    [Fact]
    public async Task Push_SnappyDecompressingOverLimit_Answers413()
    {
        await using var host = await PushHost.StartAsync();
        var compressed = Snappier.Snappy.CompressToArray(new byte[MaxBodyBytes + 10]);

        using var response = await host.PostAsync(compressed, "application/x-protobuf");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal($"decompressed body of {MaxBodyBytes + 10} bytes exceeds the limit of {MaxBodyBytes} bytes",
            await TextAsync(response));
    }

    [Fact]
    public async Task Push_ChunkedBodyOverLimit_Answers413()
    {
        await using var host = await PushHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, s_push)
        {
            Content = new StreamContent(new MemoryStream(new byte[MaxBodyBytes * 2])),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        request.Headers.TransferEncodingChunked = true;

        using var response = await host.Http.SendAsync(request).DefaultTimeout();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain", null, "unsupported Content-Type \"text/plain\"")]
    [InlineData("application/x-www-form-urlencoded", null, "unsupported Content-Type")]
    [InlineData("application/json", "br", "unsupported Content-Encoding \"br\"")]
    [InlineData("application/x-protobuf", "gzip", "unsupported Content-Encoding \"gzip\"")]
    public async Task Push_UnsupportedMediaType_Answers415(string contentType, string? encoding, string expected)
    {
        await using var host = await PushHost.StartAsync();

        using var response = await host.PostAsync(Protobuf(1), contentType, encoding);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.StartsWith(expected, await TextAsync(response), StringComparison.Ordinal);
        Assert.Equal(0, host.Channel.Count);
    }

    [Fact]
    public async Task Push_WithoutContentTypeOrWithSnappyEncoding_ReadAsProtobuf()
    {
        await using var host = await PushHost.StartAsync();

        using var bare = await host.PostAsync(Protobuf(1), contentType: null);
        using var snappy = await host.PostAsync(Protobuf(1), "application/x-protobuf", "snappy");

        Assert.Equal(HttpStatusCode.NoContent, bare.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, snappy.StatusCode);
        Assert.Equal(2, host.Channel.Count);
    }

    [Fact]
    public async Task Push_DeflateJson_Accepted()
    {
        await using var host = await PushHost.StartAsync();
        var json = PushBodies.Json([PushBodies.FlpStream(Flow(7))]);
        using var deflated = new MemoryStream();
        await using (var deflate = new DeflateStream(deflated, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(json);
        }

        using var response = await host.PostAsync(deflated.ToArray(), "application/json", "deflate");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var stored = new List<FlowRecord>();
        host.Channel.Drain(stored, 10);
        Assert.Equal(FlowRecordJson.ToJson(Flow(7)), FlowRecordJson.ToJson(Assert.Single(stored)));
    }

    [Theory]
    [InlineData("a|b")]
    [InlineData("..")]
    [InlineData("with space")]
    public async Task Push_InvalidTenant_Answers400(string tenant)
    {
        await using var host = await PushHost.StartAsync();

        using var response = await host.PostAsync(Protobuf(1), "application/x-protobuf", tenant: tenant);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("invalid tenant ID in X-Scope-OrgID", await TextAsync(response), StringComparison.Ordinal);
        Assert.Equal(0, host.Channel.Count);
    }

    [Fact]
    public async Task Push_EmptyRequest_Answers204()
    {
        await using var host = await PushHost.StartAsync();

        using var response = await host.PostAsync("{\"streams\":[]}"u8.ToArray(), "application/json");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Push_ConfiguredLabelLimits_Applied()
    {
        await using var host = await PushHost.StartAsync(settings: new()
        {
            ["LokiPush:MaxLabelNamesPerSeries"] = "9",
            ["LokiPush:MaxLabelNameLength"] = "16",
            ["LokiPush:MaxLabelValueLength"] = "5",
        });
        var flp = PushBodies.FlpStream(Flow(1));
        var shortValues = flp with
        {
            Labels = [.. flp.Labels.Select(l => l.Value.Length > 5 ? new KeyValuePair<string, string>(l.Key, "v") : l)],
        };
        var extra = shortValues with { Labels = [.. shortValues.Labels, new("one_more", "x")] };

        using var nineLabels = await host.PostAsync(PushBodies.Json([shortValues]), "application/json");
        using var tenLabels = await host.PostAsync(PushBodies.Json([extra]), "application/json");
        using var longValue = await host.PostAsync(PushBodies.SnappyProtobuf([flp]), "application/x-protobuf");

        Assert.Equal(HttpStatusCode.NoContent, nineLabels.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tenLabels.StatusCode);
        Assert.Contains("(max_label_names_per_series: 1)", await TextAsync(tenLabels), StringComparison.Ordinal);
        Assert.Contains("more than 9 label names (limit 9)", await TextAsync(tenLabels), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, longValue.StatusCode);
        Assert.Contains("value of label app of 23 bytes is too long (limit 5)", await TextAsync(longValue),
            StringComparison.Ordinal);
        Assert.Equal(1, host.Channel.Count);
    }

    [Fact]
    public async Task MapLokiPush_InvalidLabelLimits_ReportsEach()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => PushHost.StartAsync(settings: new()
        {
            ["LokiPush:MaxLabelNamesPerSeries"] = "0",
            ["LokiPush:MaxLabelNameLength"] = "-1",
            ["LokiPush:MaxLabelValueLength"] = "0",
        })).DefaultTimeout();

        Assert.Equal(
            [
                "LokiPush:MaxLabelNamesPerSeries must be positive (was 0)",
                "LokiPush:MaxLabelNameLength must be positive (was -1)",
                "LokiPush:MaxLabelValueLength must be positive (was 0)",
            ],
            exception.Failures);
    }

    [Fact]
    public async Task MapLokiPush_InvalidOptions_ReportsEveryError()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => PushHost.StartAsync(settings: new()
        {
            ["LokiPush:MaxBodyBytes"] = "10",
            ["LokiPush:MaxLineBytes"] = "0",
            ["LokiPush:DefaultTenant"] = "a b",
        })).DefaultTimeout();

        Assert.Equal(3, exception.Failures.Count());
        Assert.Contains("LokiPush:MaxBodyBytes must be at least 1024 (was 10)", exception.Failures);
    }
}
