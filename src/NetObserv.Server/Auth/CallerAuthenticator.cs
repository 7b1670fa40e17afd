namespace NetObserv.Server.Auth;

/// <summary>Turns the token a caller presented into what it may do.</summary>
internal interface ICallerAuthenticator
{
    /// <summary>The grant of <paramref name="token"/>; <see cref="AuthResult.Unknown"/> when it is not valid.</summary>
    ValueTask<AuthResult> AuthenticateAsync(string token, CancellationToken cancellationToken);
}

/// <summary>An authentication decision: a grant, an unknown token, or no decision possible now.</summary>
internal readonly record struct AuthResult(TokenGrant? Grant, string? Unavailable)
{
    public static AuthResult Unknown => default;

    public static AuthResult Granted(TokenGrant grant) => new(grant, null);

    public static AuthResult Failed(string reason) => new(null, reason);
}
