using Npgsql;

namespace NetObserv.Query.Planning;

/// <summary>
/// A planned log query: <see cref="Sql"/> with its parameters, three of which (<see cref="From"/>,
/// <see cref="To"/>, <see cref="Rows"/>) are set per window before each run.
/// </summary>
internal sealed record LogPlan(string Sql, SqlParameters Parameters, LineFilter LineFilter, int Limit,
    IReadOnlyList<(long FromNs, long ToNs)> Windows, NpgsqlParameter From, NpgsqlParameter To, NpgsqlParameter Rows)
{
    /// <summary>Sets the bounds and the row limit of the next statement.</summary>
    public void Bind((long FromNs, long ToNs) window, long rows)
    {
        From.Value = LogQueryPlanner.FromNs(window.FromNs);
        To.Value = LogQueryPlanner.FromNs(window.ToNs);
        Rows.Value = rows;
    }
}
