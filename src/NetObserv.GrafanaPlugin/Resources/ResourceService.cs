using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.WebUtilities;
using NetObserv.GrafanaPlugin.Backend;
using NetObserv.GrafanaPlugin.Data;
using NetObserv.GrafanaPlugin.Diagnostics;
using NetObserv.GrafanaPlugin.Hosting;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Query.Grpc.V1;
using QueryTimeRange = NetObserv.Query.Grpc.V1.TimeRange;

namespace NetObserv.GrafanaPlugin.Resources;

/// <summary>
/// <c>pluginv2.Resource/CallResource</c>: <c>GET labels</c> and <c>GET label/&lt;name&gt;/values</c>
/// (optional <c>start</c>, <c>end</c> in Unix nanoseconds and a <c>query</c> stream selector) answered
/// in Loki's JSON shape, <c>{"status":"success","data":[...]}</c>, for the query editor's pickers and for
/// template variables. Other paths are 404, other methods 405; errors are <c>{"message": ...}</c>.
/// </summary>
internal sealed class ResourceService : Resource.ResourceBase
{
    private readonly BackendClients _clients;
    private readonly PluginMetrics _metrics;
    private readonly ILogger _logger;

    public ResourceService(BackendClients clients, PluginMetrics metrics, ILoggerFactory loggerFactory)
    {
        _clients = clients;
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger("netobserv-flows-datasource.resources");
    }

    public override async Task CallResource(CallResourceRequest request, IServerStreamWriter<CallResourceResponse> responseStream,
        ServerCallContext context)
    {
        CallResourceResponse answer;
        try
        {
            answer = await AnswerAsync(request, context.CancellationToken).ConfigureAwait(false);
        }
        catch (PluginQueryException ex)
        {
            answer = Json(ex.Status, w => w.WriteString("message", ex.Message));
        }
        catch (RpcException ex)
        {
            var error = DataService.Downstream(ex);
            answer = Json(error.Status, w => w.WriteString("message", error.Message));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            PluginLog.ResourceFailed(_logger, request.Path, ex);
            answer = Json(500, w => w.WriteString("message", "internal error in the plugin; see the plugin's log"));
        }

        await responseStream.WriteAsync(answer, context.CancellationToken).ConfigureAwait(false);
    }

    private async Task<CallResourceResponse> AnswerAsync(CallResourceRequest request, CancellationToken cancellationToken)
    {
        var path = request.Path.Trim('/');
        var segments = path.Split('/');
        var isLabels = path == "labels";
        var isValues = segments is ["label", { Length: > 0 }, "values"];
        _metrics.Resource(isLabels ? "labels" : isValues ? "label_values" : "other");
        if (!isLabels && !isValues)
        {
            throw new PluginQueryException(404, $"no resource \"{path}\" (labels, label/<name>/values)", ErrorSource.Plugin);
        }

        if (!string.Equals(request.Method, "GET", StringComparison.OrdinalIgnoreCase))
        {
            throw new PluginQueryException(405, "only GET is answered", ErrorSource.Plugin);
        }

        var settings = DataSourceSettings.From(request.PluginContext);
        var parameters = Parameters(request.Url);
        var range = new QueryTimeRange
        {
            StartUnixNano = Nanoseconds(parameters, "start"),
            EndUnixNano = Nanoseconds(parameters, "end"),
        };
        var client = _clients.Query(settings);
        var options = new CallOptions(settings.Headers(), DateTime.UtcNow.Add(DataService.QueryDeadline), cancellationToken);
        IEnumerable<string> values;
        if (isLabels)
        {
            values = (await client.LabelNamesAsync(new LabelNamesRequest { Range = range }, options).ResponseAsync
                .ConfigureAwait(false)).Names;
        }
        else
        {
            values = (await client.LabelValuesAsync(new LabelValuesRequest
            {
                Name = Uri.UnescapeDataString(segments[1]),
                Range = range,
                Query = parameters.TryGetValue("query", out var query) ? query.ToString() : "",
            }, options).ResponseAsync.ConfigureAwait(false)).Values;
        }

        return Json(200, w =>
        {
            w.WriteString("status", "success");
            w.WriteStartArray("data");
            foreach (var value in values)
            {
                w.WriteStringValue(value);
            }

            w.WriteEndArray();
        });
    }

    private static Dictionary<string, Microsoft.Extensions.Primitives.StringValues> Parameters(string url)
    {
        var q = url.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? [] : QueryHelpers.ParseQuery(url[q..]);
    }

    private static long Nanoseconds(Dictionary<string, Microsoft.Extensions.Primitives.StringValues> parameters, string name)
    {
        if (!parameters.TryGetValue(name, out var text) || string.IsNullOrEmpty(text))
        {
            return 0;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ns)
            ? ns
            : throw new PluginQueryException(400, $"{name} must be Unix nanoseconds", ErrorSource.Plugin);
    }

    private static CallResourceResponse Json(int code, Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        var response = new CallResourceResponse { Code = code, Body = ByteString.CopyFrom(buffer.WrittenSpan) };
        response.Headers["Content-Type"] = new StringList { Values = { "application/json" } };
        return response;
    }
}
