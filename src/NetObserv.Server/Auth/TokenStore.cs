using System.Security.Cryptography;
using System.Text;
using NetObserv.Server.Hosting;

namespace NetObserv.Server.Auth;

/// <summary>
/// The tokens of <see cref="AuthOptions.TokensFile"/>: loaded at start (an invalid file stops the start),
/// then polled every <see cref="AuthOptions.ReloadInterval"/> and swapped in whole when it changed (its
/// content, so a Secret's symlink swap is seen too). An invalid new file is logged and the previous tokens
/// stay. A presented token is hashed and compared with every stored hash in constant time.
/// </summary>
internal sealed class TokenStore : BackgroundService, ICallerAuthenticator
{
    private readonly string _path;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile TokenFile _tokens;
    private byte[] _loadedContent;

    public TokenStore(AuthOptions options, TimeProvider time, ILogger<TokenStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _path = Path.GetFullPath(options.TokensFile ?? throw new ArgumentException("no tokens file", nameof(options)));
        _interval = options.ReloadInterval;
        _time = time;
        _logger = logger;
        _loadedContent = Read(_path) ?? throw new TokenFileException(_path, ["the file cannot be read"]);
        _tokens = TokenFile.Parse(Encoding.UTF8.GetString(_loadedContent), _path);
        AuthLog.TokensLoaded(_logger, _tokens.Tokens.Count, _path);
    }

    public ValueTask<AuthResult> AuthenticateAsync(string token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Find(token) is { } grant ? AuthResult.Granted(grant) : AuthResult.Unknown);

    /// <summary>The grant of <paramref name="token"/>, or null. Every stored hash is compared, in constant time.</summary>
    public TokenGrant? Find(string token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), hash);
        TokenGrant? found = null;
        foreach (var (stored, grant) in _tokens.Tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(stored, hash))
            {
                found = grant;
            }
        }

        return found;
    }

    /// <summary>Reloads the file when its content changed; true when new tokens were taken.</summary>
    public bool Poll()
    {
        var content = Read(_path);
        if (content is null || content.AsSpan().SequenceEqual(_loadedContent))
        {
            return false;
        }

        _loadedContent = content;
        try
        {
            _tokens = TokenFile.Parse(Encoding.UTF8.GetString(content), _path);
            AuthLog.TokensLoaded(_logger, _tokens.Tokens.Count, _path);
            return true;
        }
        catch (TokenFileException e)
        {
            AuthLog.TokensInvalid(_logger, e.Message);
            return false;
        }
    }

    private static byte[]? Read(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicPoll.RunAsync(_interval, _time, Poll, stoppingToken);
}
