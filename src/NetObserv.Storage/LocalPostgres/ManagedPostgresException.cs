namespace NetObserv.Storage.LocalPostgres;

/// <summary>The managed local PostgreSQL could not be found, initialised or started; the message says why and what to do.</summary>
public sealed class ManagedPostgresException : Exception
{
    public ManagedPostgresException()
    {
    }

    public ManagedPostgresException(string message)
        : base(message)
    {
    }

    public ManagedPostgresException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
