namespace NetObserv.Query.Planning;

/// <summary>A request the API answers with 400 and this message (bad parameters, unsupported query, limits).</summary>
public sealed class QueryException : Exception
{
    public QueryException()
    {
    }

    public QueryException(string message) : base(message)
    {
    }

    public QueryException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
