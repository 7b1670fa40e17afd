using System.Security.Cryptography.X509Certificates;

namespace NetObserv.Server.Hosting;

/// <summary>
/// The HTTPS certificate of the HTTP port, from a PEM certificate (chain) and key: read at start (a file
/// that cannot be read stops the start), then read again on a new connection when either file's time or
/// size changed, at most once per <see cref="CheckInterval"/> (a renewed cert-manager Secret is picked up
/// without a restart). A new pair that cannot be read is ignored and the previous certificate kept.
/// </summary>
internal sealed class PemCertificateReloader
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _certificatePath;
    private readonly string? _keyPath;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;
    private (DateTime, long, DateTime, long) _stamp;
    private DateTimeOffset _checked;

    public PemCertificateReloader(string certificatePath, string? keyPath, TimeProvider time)
    {
        _certificatePath = certificatePath;
        _keyPath = string.IsNullOrEmpty(keyPath) ? null : keyPath;
        _time = time;
        _stamp = Stamp();
        _current = Load();
        _checked = time.GetUtcNow();
    }

    /// <summary>The certificate to present now.</summary>
    public X509Certificate2 Current
    {
        get
        {
            var now = _time.GetUtcNow();
            if (now - _checked < CheckInterval)
            {
                return _current;
            }

            lock (_lock)
            {
                _checked = now;
                var stamp = Stamp();
                if (stamp != _stamp)
                {
                    try
                    {
                        _current = Load();
                        _stamp = stamp;
                    }
                    catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException
                        or UnauthorizedAccessException)
                    {
                        // Half-written or wrong pair: keep serving the previous certificate; retried next time.
                    }
                }

                return _current;
            }
        }
    }

    private X509Certificate2 Load()
    {
        using var pem = _keyPath is null
            ? X509Certificate2.CreateFromPemFile(_certificatePath)
            : X509Certificate2.CreateFromPemFile(_certificatePath, _keyPath);

        // A PEM key is ephemeral; re-importing as PKCS#12 gives SslStream a key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private (DateTime, long, DateTime, long) Stamp()
    {
        var certificate = new FileInfo(File.ResolveLinkTarget(_certificatePath, returnFinalTarget: true)?.FullName ?? _certificatePath);
        var key = _keyPath is null ? null
            : new FileInfo(File.ResolveLinkTarget(_keyPath, returnFinalTarget: true)?.FullName ?? _keyPath);
        return (certificate.Exists ? certificate.LastWriteTimeUtc : default, certificate.Exists ? certificate.Length : -1,
            key is { Exists: true } ? key.LastWriteTimeUtc : default, key is { Exists: true } ? key.Length : -1);
    }
}
