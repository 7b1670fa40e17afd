using Npgsql;

namespace NetObserv.Query.Planning;

/// <summary>
/// The query API's own connections: the flow store's connection string with session settings for
/// analytic statements (<c>work_mem</c> so aggregations hash in memory, JIT off since compiling costs
/// more than short queries save).
/// </summary>
internal static class QueryDataSource
{
    public static NpgsqlDataSource Create(string connectionString, QueryOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var settings = $"-c work_mem={options.WorkMem} -c jit=off";
        builder.Options = string.IsNullOrEmpty(builder.Options) ? settings : builder.Options + " " + settings;
        builder.ApplicationName ??= "netobserv-query";
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
