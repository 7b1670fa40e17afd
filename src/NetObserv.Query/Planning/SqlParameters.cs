using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Query.Planning;

/// <summary>Positional parameters of one statement: each value gets a <c>$n</c> placeholder.</summary>
internal sealed class SqlParameters
{
    private readonly List<NpgsqlParameter> _parameters = [];

    public IReadOnlyList<NpgsqlParameter> All => _parameters;

    public string Add(object value, NpgsqlDbType? type = null)
    {
        var parameter = new NpgsqlParameter { Value = value };
        if (type is { } t)
        {
            parameter.NpgsqlDbType = t;
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
}
