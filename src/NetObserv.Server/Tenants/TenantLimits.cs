using System.Collections.Concurrent;
using NetObserv.Flows.LokiPush;
using NetObserv.Query.Access;
using NetObserv.Server.Ingest.LokiPush;

namespace NetObserv.Server.Tenants;

/// <summary>
/// Per-tenant limits on the Loki API, after authentication chose the tenants: queries in flight
/// (<see cref="TenantLimitsOptions.MaxQueriesInFlight"/>) and push bytes per second (a token bucket of
/// <see cref="TenantLimitsOptions.PushBurstBytes"/> refilled at <see cref="TenantLimitsOptions.PushBytesPerSecond"/>).
/// Past either, the request is answered 429 with a plain-text reason naming the setting. At most
/// <see cref="MaxTenants"/> tenants are tracked; idle ones are forgotten first.
/// </summary>
internal sealed class TenantLimits
{
    public const int MaxTenants = 10_000;

    private readonly TenantLimitsOptions _options;
    private readonly TimeProvider _time;
    private readonly string _pushDefaultTenant;
    private readonly ConcurrentDictionary<string, TenantState> _tenants = new(StringComparer.Ordinal);

    public TenantLimits(TenantLimitsOptions options, TimeProvider time, string pushDefaultTenant)
    {
        _options = options;
        _time = time;
        _pushDefaultTenant = pushDefaultTenant;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? "";
        var push = path == LokiPushEndpoints.Route;
        var query = path is "/loki/api/v1/query" or "/loki/api/v1/query_range";
        if ((!push || _options.PushBytesPerSecond == 0) && (!query || _options.MaxQueriesInFlight == 0))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var tenants = FlowAccess.Get(context)?.Tenants
            ?? FlowAccess.ParseTenants(context.Request.Headers[LokiPushTenant.Header].ToString());
        if (tenants.Length == 0)
        {
            tenants = [push ? _pushDefaultTenant : Flows.FlowRecord.DefaultTenant];
        }

        if (push)
        {
            var bytes = context.Request.ContentLength ?? _options.PushBurstBytes;
            if (!State(tenants[0]).TryTake(bytes, _options, _time.GetTimestamp(), _time.TimestampFrequency))
            {
                await RefuseAsync(context, $"tenant '{tenants[0]}' is over its push rate ({_options.PushBytesPerSecond} bytes/s, "
                    + $"burst {_options.PushBurstBytes}; {TenantLimitsOptions.Section}:PushBytesPerSecond, "
                    + $"{TenantLimitsOptions.Section}:PushBurstBytes); retry later").ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
            return;
        }

        var states = tenants.Select(State).ToArray();
        var entered = 0;
        try
        {
            for (; entered < states.Length; entered++)
            {
                if (Interlocked.Increment(ref states[entered].Queries) > _options.MaxQueriesInFlight)
                {
                    Interlocked.Decrement(ref states[entered].Queries);
                    await RefuseAsync(context, $"tenant '{tenants[entered]}' has {_options.MaxQueriesInFlight} queries in progress "
                        + $"({TenantLimitsOptions.Section}:MaxQueriesInFlight); retry later").ConfigureAwait(false);
                    return;
                }
            }

            await next(context).ConfigureAwait(false);
        }
        finally
        {
            for (var i = 0; i < entered; i++)
            {
                Interlocked.Decrement(ref states[i].Queries);
            }
        }
    }

    private TenantState State(string tenant)
    {
        if (_tenants.TryGetValue(tenant, out var state))
        {
            return state;
        }

        if (_tenants.Count >= MaxTenants)
        {
            foreach (var (name, s) in _tenants)
            {
                if (Volatile.Read(ref s.Queries) == 0)
                {
                    _tenants.TryRemove(name, out _);
                }
            }
        }

        return _tenants.GetOrAdd(tenant, _ => new TenantState(_options.PushBurstBytes, _time.GetTimestamp()));
    }

    private static Task RefuseAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    private sealed class TenantState(long burst, long now)
    {
        private readonly Lock _lock = new();
        private double _bytes = burst;
        private long _stamp = now;

        public int Queries;

        public bool TryTake(long bytes, TenantLimitsOptions options, long now, long frequency)
        {
            lock (_lock)
            {
                _bytes = Math.Min(options.PushBurstBytes,
                    _bytes + ((double)(now - _stamp) / frequency * options.PushBytesPerSecond));
                _stamp = now;
                if (bytes > _bytes)
                {
                    return false;
                }

                _bytes -= bytes;
                return true;
            }
        }
    }
}
