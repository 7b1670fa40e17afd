namespace NetObserv.Query.LogQL;

/// <summary>A regular expression that is not valid RE2 or has no translation; the message says why.</summary>
internal sealed class Re2Exception : Exception
{
    public Re2Exception()
    {
    }

    public Re2Exception(string message) : base(message)
    {
    }

    public Re2Exception(string message, Exception innerException) : base(message, innerException)
    {
    }
}
