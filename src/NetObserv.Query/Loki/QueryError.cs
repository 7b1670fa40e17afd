using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;
using Npgsql;

namespace NetObserv.Query.Loki;

/// <summary>What an exception of a Loki query endpoint is: the client's mistake, a time-out, or ours.</summary>
internal enum QueryErrorKind
{
    Client,
    Timeout,
    Internal,
}

/// <summary>
/// The one mapping from an exception of a Loki query endpoint (labels, label values, series, index/stats,
/// query, query_range) to its answer. Client mistakes are 4xx with a message saying what to change; a
/// query that runs out of <c>Query:QueryTimeout</c> is 504; anything else is 500 whose body is only
/// <c>internal error (id ...)</c>, the id being the request's trace identifier, which the error log line
/// carries with the exception, so no database message, host or port reaches a client.
/// </summary>
internal sealed record QueryError(QueryErrorKind Kind, int Status, string Message)
{
    public static QueryError From(Exception exception) => exception switch
    {
        QueryException or LogQLParseException => Client(exception.Message),
        RegexMatchTimeoutException => Client(
            "regular expression timed out: the pattern backtracks too much on the values it is matched against "
            + "(nested quantifiers such as (a+)+); simplify it"),
        BadHttpRequestException bad => new(QueryErrorKind.Client, bad.StatusCode, bad.Message),

        // A form body past ASP.NET's form limits (value count, key or value length).
        InvalidDataException => Client("invalid form body: " + exception.Message),
        PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } => TimedOut,
        TimeoutException => TimedOut,

        // The database refused a value of the query: a regular expression it cannot compile ("too complex",
        // syntax .NET accepts and PostgreSQL does not) or another data exception. Its text is about the value.
        PostgresException { SqlState: PostgresErrorCodes.InvalidRegularExpression } pg => Client(pg.MessageText),
        PostgresException pg when pg.SqlState.StartsWith("22", StringComparison.Ordinal) =>
            Client("invalid value in the query: " + pg.MessageText),
        PostgresException pg when pg.SqlState.StartsWith("54", StringComparison.Ordinal) =>
            Client("the query is too complex for the database (" + pg.MessageText + "); simplify it"),
        _ => new(QueryErrorKind.Internal, StatusCodes.Status500InternalServerError, "internal error"),
    };

    private static QueryError TimedOut { get; } =
        new(QueryErrorKind.Timeout, StatusCodes.Status504GatewayTimeout, "query timed out");

    private static QueryError Client(string message) => new(QueryErrorKind.Client, StatusCodes.Status400BadRequest, message);

    /// <summary>The response body: the message, or for internal errors only the correlation id.</summary>
    public string Body(string correlationId) =>
        Kind == QueryErrorKind.Internal ? $"internal error (id {correlationId})" : Message;
}
