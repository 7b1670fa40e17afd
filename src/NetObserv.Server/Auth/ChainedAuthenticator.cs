namespace NetObserv.Server.Auth;

/// <summary>The tokens file first (when there is one), then the Kubernetes reviews.</summary>
internal sealed class ChainedAuthenticator(TokenStore? tokens, ICallerAuthenticator kubernetes) : ICallerAuthenticator
{
    public ValueTask<AuthResult> AuthenticateAsync(string token, CancellationToken cancellationToken) =>
        tokens?.Find(token) is { } grant
            ? ValueTask.FromResult(AuthResult.Granted(grant))
            : kubernetes.AuthenticateAsync(token, cancellationToken);
}
