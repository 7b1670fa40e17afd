using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Hosting;

/// <summary>HTTPS on the HTTP port from PEM files, and a renewed pair taken without a restart.</summary>
public sealed class HttpsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netobserv-https-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CertificatePath => Path.Combine(_dir, "tls.crt");

    private string KeyPath => Path.Combine(_dir, "tls.key");

    /// <summary>Writes a new self-signed pair for 127.0.0.1 and returns its thumbprint.</summary>
    private string WritePair(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
        return certificate.Thumbprint;
    }

    [Fact]
    public async Task HttpPort_WithPemPair_ServesHttpsAndTakesARenewedPair()
    {
        var first = WritePair("first");
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Server:TlsCertificatePath"] = CertificatePath,
            ["Server:TlsKeyPath"] = KeyPath,
        });

        // Trusts exactly the certificate expected, so the handshake fails on any other.
        async Task<(HttpStatusCode Status, string? Thumbprint)> ReadyAsync(string expected)
        {
            string? seen = null;
            using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero };
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                seen = certificate?.GetCertHashString();
                return seen == expected;
            };
            using var client = new HttpClient(handler);
            using var response = await client.GetAsync(new Uri($"https://127.0.0.1:{server.HttpPort}/ready")).DefaultTimeout();
            return (response.StatusCode, seen);
        }

        var before = await ReadyAsync(first);
        await Task.Delay(1100);
        var second = WritePair("second");
        await Task.Delay(1100);
        var after = await ReadyAsync(second);

        Assert.Equal((HttpStatusCode.OK, first), before);
        Assert.Equal((HttpStatusCode.OK, second), after);
    }
}
