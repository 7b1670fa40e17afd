using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using NetObserv.GrafanaPlugin.Backend;
using NetObserv.GrafanaPlugin.Diagnostics;
using NetObserv.GrafanaPlugin.Frames;
using NetObserv.GrafanaPlugin.Hosting;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Query.Grpc.V1;
using QueryTimeRange = NetObserv.Query.Grpc.V1.TimeRange;

namespace NetObserv.GrafanaPlugin.Data;

/// <summary>
/// <c>pluginv2.Data/QueryData</c>: runs each query of the request against the backend's gRPC query API
/// (at once, the backend bounds how many it evaluates) and answers each refId with its frames or its
/// error; a query's failure is its <c>DataResponse.error</c> and <c>status</c>, never a failed call.
/// </summary>
internal sealed class DataService : Protocol.Data.DataBase
{
    /// <summary>Most queries answered in one request.</summary>
    public const int MaxQueries = 100;

    /// <summary>How long one query may take at the backend.</summary>
    public static readonly TimeSpan QueryDeadline = TimeSpan.FromMinutes(2);

    /// <summary>Most points per series, as the backend's Query:MaxPoints default.</summary>
    private const long MaxPoints = 11_000;

    private readonly BackendClients _clients;
    private readonly PluginMetrics _metrics;
    private readonly ILogger _logger;

    public DataService(BackendClients clients, PluginMetrics metrics, ILoggerFactory loggerFactory)
    {
        _clients = clients;
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger("netobserv-flows-datasource.data");
    }

    public override async Task<QueryDataResponse> QueryData(QueryDataRequest request, ServerCallContext context)
    {
        var response = new QueryDataResponse();
        if (request.Queries.Count > MaxQueries)
        {
            foreach (var query in request.Queries)
            {
                response.Responses[query.RefId] = Error(new PluginQueryException(400,
                    $"more than {MaxQueries} queries in one request", ErrorSource.Plugin));
            }

            return response;
        }

        DataSourceSettings? settings = null;
        PluginQueryException? settingsError = null;
        try
        {
            settings = DataSourceSettings.From(request.PluginContext);
        }
        catch (PluginQueryException ex)
        {
            settingsError = ex;
        }

        var answers = await Task.WhenAll(request.Queries.Select(q => AnswerAsync(q, settings, settingsError, context.CancellationToken)))
            .ConfigureAwait(false);
        for (var i = 0; i < answers.Length; i++)
        {
            response.Responses[request.Queries[i].RefId] = answers[i];
        }

        return response;
    }

    private async Task<DataResponse> AnswerAsync(DataQuery query, DataSourceSettings? settings, PluginQueryException? settingsError,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var type = "unknown";
        try
        {
            var model = QueryModel.Parse(query.Json.Span, query.QueryType);
            type = model.QueryType;
            if (settingsError is not null)
            {
                throw settingsError;
            }

            var frames = await RunAsync(query, model, settings!, cancellationToken).ConfigureAwait(false);
            var answer = new DataResponse { Status = 200 };
            foreach (var frame in frames)
            {
                answer.Frames.Add(ByteString.CopyFrom(frame.ToArrowFile()));
            }

            _metrics.Query(type, true, stopwatch.Elapsed);
            return answer;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Anything else is this plugin's fault: the query's 500, never a failed call.
            var error = ex as PluginQueryException ?? (ex is RpcException rpc ? Downstream(rpc)
                : new PluginQueryException(500, "internal error in the plugin (" + ex.GetType().Name + "); see the plugin's log", ErrorSource.Plugin));
            if (ex is not (PluginQueryException or RpcException))
            {
                PluginLog.QueryCrashed(_logger, query.RefId, type, ex);
            }

            _metrics.Query(type, false, stopwatch.Elapsed);
            PluginLog.QueryFailed(_logger, query.RefId, type, error.Status, error.Message);
            return Error(error);
        }
    }

    private static DataResponse Error(PluginQueryException error) =>
        new() { Error = error.Message, Status = error.Status, ErrorSource = error.Source };

    /// <summary>The backend's error as the query's: its gRPC status as the HTTP status the backend's Loki API answers.</summary>
    public static PluginQueryException Downstream(RpcException ex) => ex.StatusCode switch
    {
        StatusCode.InvalidArgument => new(400, ex.Status.Detail, ErrorSource.Downstream),
        StatusCode.ResourceExhausted => new(429, ex.Status.Detail, ErrorSource.Downstream),
        StatusCode.DeadlineExceeded => new(504, "the backend did not answer in time: " + ex.Status.Detail, ErrorSource.Downstream),
        StatusCode.Unauthenticated => new(401, ex.Status.Detail, ErrorSource.Downstream),
        StatusCode.PermissionDenied => new(403, ex.Status.Detail, ErrorSource.Downstream),
        StatusCode.Unavailable => new(502, "the backend is unavailable: " + ex.Status.Detail, ErrorSource.Downstream),
        StatusCode.Unimplemented => new(502,
            "the data source URL does not serve the NetObserv gRPC query API (Server:QueryGrpcPort)", ErrorSource.Downstream),
        _ => new(500, ex.Status.Detail, ErrorSource.Downstream),
    };

    private async Task<List<DataFrame>> RunAsync(DataQuery query, QueryModel model, DataSourceSettings settings,
        CancellationToken cancellationToken)
    {
        var from = query.TimeRange?.FromEpochMS ?? 0;
        var to = query.TimeRange?.ToEpochMS ?? 0;
        if (to <= from)
        {
            throw new PluginQueryException(400, "the time range is empty", ErrorSource.Plugin);
        }

        if (from < 0 || to > long.MaxValue / 1_000_000)
        {
            throw new PluginQueryException(400, "the time range is outside 1970 to 2262", ErrorSource.Plugin);
        }

        var range = new QueryTimeRange { StartUnixNano = from * 1_000_000, EndUnixNano = to * 1_000_000 };
        var step = Math.Max(Math.Max(query.IntervalMS, 1000), ((to - from) + MaxPoints - 1) / MaxPoints);
        var client = _clients.Query(settings);
        var options = new CallOptions(settings.Headers(), DateTime.UtcNow.Add(QueryDeadline), cancellationToken);
        return model.QueryType switch
        {
            QueryModel.LogQL => await LogQLAsync(client, query.RefId, model, range, step, options).ConfigureAwait(false),
            QueryModel.Volumetry => await VolumetryAsync(client, query.RefId, model, range, step, options).ConfigureAwait(false),
            _ => await FlowsAsync(client, query.RefId, model, range, options).ConfigureAwait(false),
        };
    }

    private static async Task<List<DataFrame>> LogQLAsync(QueryService.QueryServiceClient client, string refId, QueryModel model,
        QueryTimeRange range, long step, CallOptions options)
    {
        var answer = await client.QueryRangeAsync(new RangeQueryRequest
        {
            Query = model.Expr,
            Range = range,
            StepMs = step,
            Limit = model.MaxLines,
            Direction = model.Forward ? Direction.Forward : Direction.Backward,
        }, options).ResponseAsync.ConfigureAwait(false);
        return answer.ResultCase == RangeQueryResponse.ResultOneofCase.Streams
            ? [FrameBuilder.LogLines(refId, answer, model.Forward)]
            : FrameBuilder.TimeSeries(refId, answer, step, null);
    }

    private static async Task<List<DataFrame>> VolumetryAsync(QueryService.QueryServiceClient client, string refId, QueryModel model,
        QueryTimeRange range, long step, CallOptions options)
    {
        var answer = await client.QueryVolumetryAsync(new VolumetryRequest
        {
            Range = range,
            StepMs = step,
            GroupBy = model.GroupBy,
            Metric = model.Metric,
            Side = model.Side,
            Filters = model.Filters,
        }, options).ResponseAsync.ConfigureAwait(false);
        var unit = model.Metric switch
        {
            Metric.Bytes => "Bps",
            Metric.Packets => "pps",
            _ => "short",
        };
        return FrameBuilder.TimeSeries(refId, answer, step, unit);
    }

    private static async Task<List<DataFrame>> FlowsAsync(QueryService.QueryServiceClient client, string refId, QueryModel model,
        QueryTimeRange range, CallOptions options)
    {
        using var call = client.QueryFlows(new FlowsRequest
        {
            Range = range,
            Filters = model.Filters,
            Limit = model.Limit,
            Direction = model.Forward ? Direction.Forward : Direction.Backward,
        }, options);
        var rows = new List<FlowRow>();
        while (await call.ResponseStream.MoveNext(options.CancellationToken).ConfigureAwait(false))
        {
            rows.Add(call.ResponseStream.Current);
        }

        return [FrameBuilder.FlowTable(refId, rows, "flows " + model.Filters)];
    }
}
