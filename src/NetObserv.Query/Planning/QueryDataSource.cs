using Npgsql;

namespace NetObserv.Query.Planning;

/// <summary>
/// The query API's own connections: the flow store's connection string with session settings for
/// analytic statements (<c>work_mem</c> so aggregations hash in memory, JIT off since compiling costs
/// more than short queries save), and, given a <c>role</c>, that role for the whole session
/// (<c>-c role=...</c>, as <c>SET ROLE</c>): with the managed PostgreSQL, whose only login is its superuser,
/// query connections run as <c>netobserv_reader</c>, so no statement they send can write or change the schema.
/// </summary>
internal static class QueryDataSource
{
    /// <summary>The read-only role the migrations create.</summary>
    public const string ReaderRole = "netobserv_reader";

    public static NpgsqlDataSource Create(string connectionString, QueryOptions options, string? role = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var settings = $"-c work_mem={options.WorkMem} -c jit=off" + (role is null ? "" : " -c role=" + role);
        builder.Options = string.IsNullOrEmpty(builder.Options) ? settings : builder.Options + " " + settings;
        builder.ApplicationName ??= "netobserv-query";
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
