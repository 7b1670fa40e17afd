using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>
/// The Loki query API under <c>/loki/api/v1</c>: <c>query_range</c>, <c>query</c>, <c>labels</c>,
/// <c>label/{name}/values</c>, <c>series</c>, <c>index/stats</c>, <c>status/buildinfo</c>. GET and POST
/// (form body). Bad requests get 400 with a plain-text message, as Loki answers.
/// </summary>
internal static class LokiQueryEndpoints
{
    private const string Prefix = "/loki/api/v1";

    public static IEndpointRouteBuilder MapLokiQueryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        string[] methods = ["GET", "POST"];
        endpoints.MapMethods(Prefix + "/query_range", methods, (HttpContext context, [AsParameters] LokiQueryServices services) =>
            Handle(context, services, "query_range", read => QueryRangeAsync(context, services, read)));
        endpoints.MapMethods(Prefix + "/query", methods, (HttpContext context, [AsParameters] LokiQueryServices services) =>
            Handle(context, services, "query", read => InstantAsync(context, services, read)));
        endpoints.MapMethods(Prefix + "/labels", methods, (HttpContext context, [AsParameters] LokiQueryServices services) =>
            Handle(context, services, "labels", read => LabelsAsync(context, services, read)));
        endpoints.MapMethods(Prefix + "/label", methods, (HttpContext context, [AsParameters] LokiQueryServices services) =>
            Handle(context, services, "labels", read => LabelsAsync(context, services, read)));
        endpoints.MapMethods(Prefix + "/label/{name}/values", methods,
            (HttpContext context, string name, [AsParameters] LokiQueryServices services) =>
                Handle(context, services, "label_values", read => LabelValuesAsync(context, services, name, read)));
        endpoints.MapMethods(Prefix + "/series", methods, (HttpContext context, [AsParameters] LokiQueryServices services) =>
            Handle(context, services, "series", read => SeriesAsync(context, services, read)));
        endpoints.MapMethods(Prefix + "/index/stats", methods, (HttpContext context, [AsParameters] LokiQueryServices services) =>
            Handle(context, services, "index_stats", read => StatsAsync(context, services, read)));
        endpoints.MapGet(Prefix + "/status/buildinfo", (HttpContext context, [AsParameters] LokiQueryServices services) =>
            Handle(context, services, "buildinfo", _ => BuildInfoAsync(context)));
        return endpoints;
    }

    private static async Task Handle(HttpContext context, LokiQueryServices services, string endpoint,
        Func<Func<string, string?>, Task> handler)
    {
        var metrics = services.Metrics;
        var logger = services.Loggers.CreateLogger("NetObserv.Query.Loki");
        metrics.Request(endpoint);
        try
        {
            var read = await LokiParameters.ReaderAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            await handler(read).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception ex)
        {
            metrics.Error(endpoint);
            var error = QueryError.From(ex);
            switch (error.Kind)
            {
                case QueryErrorKind.Client:
                    QueryLog.Rejected(logger, endpoint, error.Message);
                    break;
                case QueryErrorKind.Timeout:
                    QueryLog.TimedOut(logger, endpoint, ex);
                    break;
                default:
                    QueryLog.Failed(logger, endpoint, context.TraceIdentifier, ex);
                    break;
            }

            await Text(context, error.Status, error.Body(context.TraceIdentifier)).ConfigureAwait(false);
        }
    }

    private static async Task Text(HttpContext context, int status, string message)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message, context.RequestAborted).ConfigureAwait(false);
    }

    private static long NowNs(LokiQueryServices services) =>
        (services.Time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;

    private static Task QueryRangeAsync(HttpContext context, LokiQueryServices services, Func<string, string?> read)
    {
        var maxRange = services.Engine.Options.MaxQueryRange;
        var end = LokiParameters.ParseTime(read("end"), NowNs(services), "end");
        long start;
        if (read("since") is { Length: > 0 } since)
        {
            if (!LogQLDuration.TryParse(since, out var sinceDuration))
            {
                throw new QueryException($"invalid parameter \"since\": cannot parse \"{since}\" to a valid duration");
            }

            // Checked before it is subtracted, so a huge since cannot wrap around.
            QueryEngine.CheckRange(sinceDuration, maxRange);
            start = LokiParameters.Before(end, sinceDuration);
        }
        else
        {
            start = LokiParameters.ParseTime(read("start"), LokiParameters.Before(end, TimeSpan.FromHours(1)), "start");
        }

        if (end < start)
        {
            throw new QueryException("end timestamp must not be before or equal to start time");
        }

        QueryEngine.CheckRange(start, end, maxRange);
        var step = LokiParameters.ParseStep(read("step"))
            ?? Math.Max((end - start) / 1_000_000 / 250 / 1000, 1) * 1000;
        var request = new QueryRequest(Required(read, "query"), start, end, step,
            LokiParameters.ParseLimit(read("limit")), LokiParameters.ParseForward(read("direction")), false,
            LokiParameters.Access(context));
        return RunAsync(context, services, request);
    }

    private static Task InstantAsync(HttpContext context, LokiQueryServices services, Func<string, string?> read)
    {
        var time = LokiParameters.ParseTime(read("time"), NowNs(services), "time");
        var step = LokiParameters.ParseStep(read("step")) ?? 60_000;
        var request = new QueryRequest(Required(read, "query"), time, time, step,
            LokiParameters.ParseLimit(read("limit")), LokiParameters.ParseForward(read("direction")), true,
            LokiParameters.Access(context));
        return RunAsync(context, services, request);
    }

    private static string Required(Func<string, string?> read, string name) =>
        read(name) is { Length: > 0 } value ? value : throw new QueryException($"missing parameter \"{name}\"");

    private static async Task RunAsync(HttpContext context, LokiQueryServices services, QueryRequest request)
    {
        var (engine, cache, metrics) = (services.Engine, services.Cache, services.Metrics);
        var stopwatch = Stopwatch.StartNew();
        var expr = QueryEngine.Parse(request.Query);
        var key = QueryResultCache.Key(request, LogQLFormatter.Format(expr));
        var cacheable = cache.IsCacheable(request);
        if (cacheable && cache.TryGet(key, out var cached))
        {
            metrics.CacheHit();
            metrics.Duration(stopwatch.Elapsed.TotalSeconds);
            await QueryAnswerWriter.WriteCachedAsync(context, cached, stopwatch.Elapsed).ConfigureAwait(false);
            return;
        }

        // Evaluation and the answer's writing hold a slot: that is where a query's memory is.
        using var slot = await services.Concurrency.EnterAsync(context.RequestAborted).ConfigureAwait(false);
        var computedAt = cache.Now;
        var result = await engine.ExecuteAsync(request, expr, context.RequestAborted).ConfigureAwait(false);
        metrics.Duration(stopwatch.Elapsed.TotalSeconds);
        var answer = await QueryAnswerWriter.WriteAsync(context, result, engine.Options.MaxResponseBytes,
            cacheable ? cache.MaxEntryBytes : 0, stopwatch.Elapsed).ConfigureAwait(false);
        if (cacheable && answer is not null)
        {
            cache.Set(key, answer, request, computedAt);
        }
    }

    private static (long Start, long End) MetadataRange(LokiQueryServices services, Func<string, string?> read)
    {
        var end = LokiParameters.ParseTime(read("end"), NowNs(services), "end");
        var start = LokiParameters.ParseTime(read("start"), LokiParameters.Before(end, TimeSpan.FromHours(6)), "start");
        if (end < start)
        {
            throw new QueryException("end timestamp must not be before or equal to start time");
        }

        QueryEngine.CheckRange(start, end, services.Engine.Options.MaxQueryRange);
        return (start, end);
    }

    private static LogQuery? Selector(string? query) =>
        string.IsNullOrWhiteSpace(query) ? null : ParseSelector(query);

    private static LogQuery ParseSelector(string query)
    {
        try
        {
            return LogQLParser.ParseSelector(query);
        }
        catch (LogQLParseException ex)
        {
            throw new QueryException(ex.Message, ex);
        }
    }

    private static Task LabelsAsync(HttpContext context, LokiQueryServices services, Func<string, string?> read)
    {
        _ = MetadataRange(services, read);
        _ = Selector(read("query"));
        var labels = services.Engine.StreamLabels.Order(StringComparer.Ordinal).ToList();
        return WriteJsonAsync(context, w => WriteStrings(w, labels));
    }

    private static async Task LabelValuesAsync(HttpContext context, LokiQueryServices services, string name,
        Func<string, string?> read)
    {
        var (start, end) = MetadataRange(services, read);
        var values = await services.Engine.LabelValuesAsync(name, Selector(read("query")), start, end,
            LokiParameters.Access(context), context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, w => WriteStrings(w, values)).ConfigureAwait(false);
    }

    private static async Task SeriesAsync(HttpContext context, LokiQueryServices services, Func<string, string?> read)
    {
        var (start, end) = MetadataRange(services, read);
        var matches = LokiParameters.All(context.Request, "match[]").Concat(LokiParameters.All(context.Request, "match"))
            .Select(ParseSelector).ToList();
        var series = await services.Engine.SeriesAsync(matches, start, end, LokiParameters.Access(context),
            context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "success");
            w.WriteStartArray("data");
            foreach (var set in series)
            {
                w.WriteStartObject();
                foreach (var (labelName, value) in set.Pairs)
                {
                    w.WriteString(labelName, value);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static async Task StatsAsync(HttpContext context, LokiQueryServices services, Func<string, string?> read)
    {
        var (start, end) = MetadataRange(services, read);
        var selector = ParseSelector(Required(read, "query"));
        var stats = await services.Engine.StatsAsync(selector, start, end, LokiParameters.Access(context),
            context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("streams", stats.Streams);
            w.WriteNumber("chunks", stats.Chunks);
            w.WriteNumber("bytes", stats.Bytes);
            w.WriteNumber("entries", stats.Entries);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static Task BuildInfoAsync(HttpContext context)
    {
        var version = typeof(LokiQueryEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        return WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("version", "3.0.0");
            w.WriteString("revision", "netobserv-backend-" + version);
            w.WriteString("branch", "");
            w.WriteString("buildUser", "");
            w.WriteString("buildDate", "");
            w.WriteString("goVersion", "");
            w.WriteEndObject();
        });
    }

    private static void WriteStrings(Utf8JsonWriter w, IEnumerable<string> values)
    {
        w.WriteStartObject();
        w.WriteString("status", "success");
        w.WriteStartArray("data");
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
