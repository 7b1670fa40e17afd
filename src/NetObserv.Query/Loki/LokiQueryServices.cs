using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>The services the Loki query handlers take, bound as handler parameters (<c>[AsParameters]</c>).</summary>
internal readonly record struct LokiQueryServices(
    [FromServices] QueryEngine Engine,
    [FromServices] QueryResultCache Cache,
    [FromServices] QueryConcurrency Concurrency,
    [FromServices] QueryMetrics Metrics,
    [FromServices] TimeProvider Time,
    [FromServices] ILoggerFactory Loggers);
