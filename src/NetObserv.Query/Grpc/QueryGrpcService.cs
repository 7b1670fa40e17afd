using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using NetObserv.Query.Access;
using NetObserv.Query.Grpc.V1;
using NetObserv.Query.LogQL;
using NetObserv.Query.Loki;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Grpc;

/// <summary>
/// <c>netobserv.query.v1.QueryService</c>: translates a typed request into the engine's
/// <see cref="QueryRequest"/>, runs it with the HTTP API's limits (concurrency slots, ranges, points,
/// series, entries, response size) and tenant (metadata <c>x-scope-orgid</c>), and maps errors as
/// <see cref="QueryError"/> does: client mistakes are <c>InvalidArgument</c>, a full queue
/// <c>ResourceExhausted</c>, a time-out <c>DeadlineExceeded</c>, anything else <c>Internal</c> with an id only.
/// </summary>
internal sealed class QueryGrpcService : QueryService.QueryServiceBase
{
    /// <summary>The default log limit, as Loki's.</summary>
    private const int DefaultLimit = 100;

    private readonly QueryEngine _engine;
    private readonly QueryConcurrency _concurrency;
    private readonly QueryMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public QueryGrpcService(QueryEngine engine, QueryConcurrency concurrency, QueryMetrics metrics, TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        _engine = engine;
        _concurrency = concurrency;
        _metrics = metrics;
        _time = time;
        _logger = loggerFactory.CreateLogger("NetObserv.Query.Grpc");
    }

    public override Task<RangeQueryResponse> QueryRange(RangeQueryRequest request, ServerCallContext context) =>
        HandleAsync("grpc_query_range", context, () =>
        {
            var (start, end) = Range(request.Range, TimeSpan.FromHours(1));
            var limit = request.Limit < 0 ? throw new QueryException("limit must not be negative")
                : request.Limit == 0 ? DefaultLimit : request.Limit;
            return RunAsync(new QueryRequest(request.Query, start, end, Step(request.StepMs, start, end), limit,
                request.Direction == Direction.Forward, false, Tenants(context)), context);
        });

    public override Task<RangeQueryResponse> QueryVolumetry(VolumetryRequest request, ServerCallContext context) =>
        HandleAsync("grpc_query_volumetry", context, () =>
        {
            var (start, end) = Range(request.Range, TimeSpan.FromHours(1));
            var step = Step(request.StepMs, start, end);
            return RunAsync(new QueryRequest(TypedQueries.Volumetry(request, step), start, end, step, DefaultLimit,
                false, false, Tenants(context)), context);
        });

    public override async Task QueryFlows(FlowsRequest request, IServerStreamWriter<FlowRow> responseStream,
        ServerCallContext context)
    {
        await HandleAsync("grpc_query_flows", context, async () =>
        {
            var (start, end) = Range(request.Range, TimeSpan.FromHours(1));
            var limit = request.Limit < 0 ? throw new QueryException("limit must not be negative")
                : request.Limit == 0 ? DefaultLimit : request.Limit;
            var query = new QueryRequest(TypedQueries.Flows(request.Filters), start, end, 0, limit,
                request.Direction == Direction.Forward, false, Tenants(context));
            var log = QueryEngine.Parse(query.Query) as LogQuery
                ?? throw new QueryException("the flow table needs a log query");
            using var slot = await _concurrency.EnterAsync(context.CancellationToken).ConfigureAwait(false);
            await foreach (var line in _engine.ReadLinesAsync(query, log, new LogScan(), context.CancellationToken)
                .ConfigureAwait(false))
            {
                await responseStream.WriteAsync(Row(line), context.CancellationToken).ConfigureAwait(false);
            }

            return true;
        }).ConfigureAwait(false);
    }

    public override Task<LabelNamesResponse> LabelNames(LabelNamesRequest request, ServerCallContext context) =>
        HandleAsync("grpc_labels", context, () =>
        {
            _ = Range(request.Range, TimeSpan.FromHours(6));
            var response = new LabelNamesResponse();
            response.Names.AddRange(_engine.StreamLabels.Order(StringComparer.Ordinal));
            return Task.FromResult(response);
        });

    public override Task<LabelValuesResponse> LabelValues(LabelValuesRequest request, ServerCallContext context) =>
        HandleAsync("grpc_label_values", context, async () =>
        {
            if (request.Name.Length is 0 or > 256)
            {
                throw new QueryException("a label name of 1 to 256 characters is required");
            }

            var (start, end) = Range(request.Range, TimeSpan.FromHours(6));
            LogQuery? selector = null;
            if (!string.IsNullOrWhiteSpace(request.Query))
            {
                try
                {
                    selector = LogQLParser.ParseSelector(request.Query);
                }
                catch (LogQLParseException ex)
                {
                    throw new QueryException(ex.Message, ex);
                }
            }

            var values = await _engine.LabelValuesAsync(request.Name, selector, start, end, Tenants(context),
                context.CancellationToken).ConfigureAwait(false);
            var response = new LabelValuesResponse();
            response.Values.AddRange(values);
            return response;
        });

    public override Task<BuildInfoResponse> BuildInfo(BuildInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new BuildInfoResponse { Version = Version });

    /// <summary>The backend's version, as <c>status/buildinfo</c> reports it in its revision.</summary>
    public static string Version { get; } =
        "netobserv-backend-" + (typeof(QueryGrpcService).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    private async Task<RangeQueryResponse> RunAsync(QueryRequest request, ServerCallContext context)
    {
        var stopwatch = Stopwatch.StartNew();
        var expr = QueryEngine.Parse(request.Query);
        using var slot = await _concurrency.EnterAsync(context.CancellationToken).ConfigureAwait(false);
        var result = await _engine.ExecuteAsync(request, expr, context.CancellationToken).ConfigureAwait(false);
        _metrics.Duration(stopwatch.Elapsed.TotalSeconds);
        var response = new RangeQueryResponse { RowsProcessed = result.RowsProcessed, ExecutedQuery = request.Query };
        switch (result)
        {
            case MatrixResult matrix:
                response.Matrix = new Matrix();
                foreach (var series in matrix.Series)
                {
                    var s = new V1.Series();
                    AddLabels(s.Labels, series.Labels);
                    for (var k = 0; k < series.Values.Length; k++)
                    {
                        if (series.Values[k] is { } value)
                        {
                            s.TimestampsMs.Add(matrix.TimestampsMs[k]);
                            s.Values.Add(value);
                        }
                    }

                    response.Matrix.Series.Add(s);
                }

                break;
            case StreamsResult streams:
                response.Streams = new LogStreams();
                foreach (var stream in streams.Streams)
                {
                    var s = new V1.LogStream();
                    AddLabels(s.Labels, stream.Labels);
                    foreach (var entry in stream.Entries)
                    {
                        s.Entries.Add(new Entry { TimestampUnixNano = entry.TimestampNs, Line = entry.Line });
                    }

                    response.Streams.Streams.Add(s);
                }

                break;
            default:
                throw new QueryException("range queries answer a matrix or streams");
        }

        if (response.CalculateSize() > _engine.Options.MaxResponseBytes)
        {
            throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                $"the answer is larger than {_engine.Options.MaxResponseBytes} bytes (Query:MaxResponseBytes); narrow the query"));
        }

        return response;
    }

    private static void AddLabels(Google.Protobuf.Collections.RepeatedField<Label> target, LabelSet labels)
    {
        foreach (var (name, value) in labels.Pairs)
        {
            target.Add(new Label { Name = name, Value = value });
        }
    }

    private async Task<T> HandleAsync<T>(string endpoint, ServerCallContext context, Func<Task<T>> handler)
    {
        _metrics.Request(endpoint);
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            _metrics.Error(endpoint);
            var error = QueryError.From(ex);
            var id = context.GetHttpContext().TraceIdentifier;
            switch (error.Kind)
            {
                case QueryErrorKind.Client:
                    QueryLog.Rejected(_logger, endpoint, error.Message);
                    break;
                case QueryErrorKind.Timeout:
                    QueryLog.TimedOut(_logger, endpoint, ex);
                    break;
                default:
                    QueryLog.Failed(_logger, endpoint, id, ex);
                    break;
            }

            var code = error switch
            {
                { Kind: QueryErrorKind.Timeout } => StatusCode.DeadlineExceeded,
                { Kind: QueryErrorKind.Internal } => StatusCode.Internal,
                { Status: 429 } => StatusCode.ResourceExhausted,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(new Status(code, error.Body(id)));
        }
    }

    /// <summary>The request's range, or the last <paramref name="fallback"/> when none is given; checked as the HTTP API checks it.</summary>
    private (long Start, long End) Range(TimeRange? range, TimeSpan fallback)
    {
        var now = (_time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        var end = range is { EndUnixNano: not 0 } ? range.EndUnixNano : now;
        var start = range is { StartUnixNano: not 0 } ? range.StartUnixNano : LokiParameters.Before(end, fallback);
        if (end < start)
        {
            throw new QueryException("end timestamp must not be before or equal to start time");
        }

        QueryEngine.CheckRange(start, end, _engine.Options.MaxQueryRange);
        return (start, end);
    }

    /// <summary>The step of a range query: as given, or the HTTP API's default (range / 250 rounded to seconds, at least 1s).</summary>
    private static long Step(long stepMs, long start, long end) => stepMs switch
    {
        < 0 => throw new QueryException("zero or negative query resolution step widths are not accepted. Try a positive integer"),
        0 => Math.Max((end - start) / 1_000_000 / 250 / 1000, 1) * 1000,
        _ => stepMs,
    };

    /// <summary>What the call may read: the grant authentication put on it, else the tenants of x-scope-orgid.</summary>
    private static FlowAccess Tenants(ServerCallContext context) => LokiParameters.Access(context.GetHttpContext());

    private static FlowRow Row(FlowLine line)
    {
        var r = line.Record;
        var row = new FlowRow
        {
            TimeFlowEndUnixNano = line.TimestampNs,
            TimeFlowStartUnixNano = r.TimeFlowStartMs * 1_000_000,
            TimeReceivedUnix = r.TimeReceived,
            SrcAddr = r.SrcAddr?.ToString() ?? "",
            DstAddr = r.DstAddr?.ToString() ?? "",
            Bytes = r.Bytes,
            Packets = r.Packets,
            AgentIp = r.AgentIP?.ToString() ?? "",
            SrcK8SName = r.Src.Name ?? "",
            SrcK8SType = r.Src.Type ?? "",
            SrcK8SNamespace = r.Src.Namespace ?? "",
            SrcK8SOwnerName = r.Src.OwnerName ?? "",
            SrcK8SOwnerType = r.Src.OwnerType ?? "",
            SrcK8SHostName = r.Src.HostName ?? "",
            SrcK8SZone = r.Src.Zone ?? "",
            DstK8SName = r.Dst.Name ?? "",
            DstK8SType = r.Dst.Type ?? "",
            DstK8SNamespace = r.Dst.Namespace ?? "",
            DstK8SOwnerName = r.Dst.OwnerName ?? "",
            DstK8SOwnerType = r.Dst.OwnerType ?? "",
            DstK8SHostName = r.Dst.HostName ?? "",
            DstK8SZone = r.Dst.Zone ?? "",
            K8SFlowLayer = r.K8SFlowLayer ?? "",
            K8SClusterName = r.K8SClusterName ?? "",
            Json = line.Line,
        };
        if (r.SrcPort is { } srcPort)
        {
            row.SrcPort = srcPort;
        }

        if (r.DstPort is { } dstPort)
        {
            row.DstPort = dstPort;
        }

        if (r.Proto is { } proto)
        {
            row.Proto = proto;
        }

        if (r.Sampling is { } sampling)
        {
            row.Sampling = sampling;
        }

        if (r.FlowDirection is { } direction)
        {
            row.FlowDirection = direction;
        }

        if (r.Dscp is { } dscp)
        {
            row.Dscp = dscp;
        }

        if (r.Flags is { } flags)
        {
            row.Flags = flags;
        }

        if (r.TimeFlowRttNs is { } rtt)
        {
            row.TimeFlowRttNs = rtt;
        }

        if (r.DnsLatencyMs is { } dns)
        {
            row.DnsLatencyMs = dns;
        }

        if (r.PktDropBytes is { } dropBytes)
        {
            row.PktDropBytes = dropBytes;
        }

        if (r.PktDropPackets is { } dropPackets)
        {
            row.PktDropPackets = dropPackets;
        }

        return row;
    }
}
