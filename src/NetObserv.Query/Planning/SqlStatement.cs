namespace NetObserv.Query.Planning;

/// <summary>One planned SQL statement and its parameters.</summary>
internal sealed record SqlStatement(string Sql, SqlParameters Parameters);
