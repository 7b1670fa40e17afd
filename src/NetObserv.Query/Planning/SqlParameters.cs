using System.Data;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>
/// Positional parameters of one statement: each value gets a <c>$n</c> placeholder. Hot paths bind them to an
/// <see cref="NpgsqlCommand"/> (<see cref="Command"/>); metadata queries hand them to Dapper as its parameter
/// object (<see cref="SqlMapper.IDynamicParameters"/>), which adds copies to the command it builds.
/// </summary>
internal sealed class SqlParameters : SqlMapper.IDynamicParameters
{
    /// <summary>Most parameters one statement can carry (PostgreSQL's protocol counts them in 16 bits).</summary>
    public const int MaxCount = 65_535;

    private readonly List<NpgsqlParameter> _parameters = [];

    public IReadOnlyList<NpgsqlParameter> All => _parameters;

    /// <summary>
    /// Adds a parameter and returns its placeholder. Past <see cref="MaxCount"/> (a query with that many filter
    /// values, which the nesting limit still allows in a balanced tree) it is a <see cref="QueryException"/>.
    /// </summary>
    public string Add(object value, NpgsqlDbType? type = null)
    {
        var parameter = new NpgsqlParameter { Value = value };
        if (type is { } t)
        {
            parameter.NpgsqlDbType = t;
        }

        return Add(parameter);
    }

    /// <summary>Adds <paramref name="parameter"/> itself (its value may change before each run) and returns its placeholder.</summary>
    public string Add(NpgsqlParameter parameter)
    {
        if (_parameters.Count == MaxCount)
        {
            throw new QueryException("the query has more filter values than one SQL statement can carry (65,535); "
                + "use fewer label filters, or one regex alternation such as =~\"a|b|c\" for many values");
        }

        _parameters.Add(parameter);
        return "$" + _parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A command for <paramref name="sql"/> on <paramref name="connection"/> carrying these parameters,
    /// with <paramref name="timeout"/> as its command timeout when given (else Npgsql's default).
    /// </summary>
    public NpgsqlCommand Command(string sql, NpgsqlConnection connection, TimeSpan? timeout = null)
    {
        var command = new NpgsqlCommand(sql, connection);
        if (timeout is { } t)
        {
            command.CommandTimeout = (int)Math.Ceiling(t.TotalSeconds);
        }

        foreach (var parameter in _parameters)
        {
            command.Parameters.Add(parameter);
        }

        return command;
    }

    void SqlMapper.IDynamicParameters.AddParameters(IDbCommand command, SqlMapper.Identity identity)
    {
        foreach (var parameter in _parameters)
        {
            command.Parameters.Add(parameter.Clone());
        }
    }
}
