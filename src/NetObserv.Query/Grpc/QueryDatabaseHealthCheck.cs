using Microsoft.Extensions.Diagnostics.HealthChecks;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Grpc;

/// <summary>Healthy when the query engine's database answers <c>SELECT 1</c>: what grpc.health.v1 reports on the query port.</summary>
internal sealed class QueryDatabaseHealthCheck(QueryEngine engine) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await engine.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("the database does not answer", ex);
        }
    }
}
