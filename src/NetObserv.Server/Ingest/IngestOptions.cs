namespace NetObserv.Server.Ingest;

/// <summary>
/// gRPC ingest settings (section <c>Ingest</c>): the pbflow collector the eBPF agent sends to on
/// <c>Server:GrpcPort</c>. Plain HTTP/2 (h2c) unless a certificate is configured.
/// </summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Default largest <c>Send</c> message: 64 MiB, room for 10,000 records with every feature on.</summary>
    public const int DefaultMaxReceiveMessageSize = 64 * 1024 * 1024;

    /// <summary>
    /// Largest accepted <c>Send</c> message in bytes. The agent sends up to <c>GRPC_MESSAGE_MAX_FLOWS</c>
    /// (10,000 by default) records per message, about 1 to 3 MB. Defaults to 64 MiB.
    /// </summary>
    public int MaxReceiveMessageSize { get; set; } = DefaultMaxReceiveMessageSize;

    /// <summary>PEM certificate (chain) of the gRPC listener; setting it turns TLS on. Defaults to none (h2c).</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/>. Defaults to none (the key is in the certificate file).</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>PEM CA bundle that client certificates must chain to (mTLS). Defaults to none.</summary>
    public string? TlsClientCaPath { get; set; }

    /// <summary>Refuse clients without a valid certificate (needs <see cref="TlsClientCaPath"/>). Defaults to false.</summary>
    public bool TlsRequireClientCertificate { get; set; }

    /// <summary>Every problem with these settings, or an empty list.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxReceiveMessageSize < 64 * 1024)
        {
            errors.Add($"{Section}:MaxReceiveMessageSize must be at least 65536 bytes (was {MaxReceiveMessageSize})");
        }

        var tls = !string.IsNullOrEmpty(TlsCertificatePath);
        if (!tls && !string.IsNullOrEmpty(TlsKeyPath))
        {
            errors.Add($"{Section}:TlsKeyPath is set without {Section}:TlsCertificatePath");
        }

        if (!tls && !string.IsNullOrEmpty(TlsClientCaPath))
        {
            errors.Add($"{Section}:TlsClientCaPath needs {Section}:TlsCertificatePath (client certificates need TLS)");
        }

        if (TlsRequireClientCertificate && string.IsNullOrEmpty(TlsClientCaPath))
        {
            errors.Add($"{Section}:TlsRequireClientCertificate needs {Section}:TlsClientCaPath");
        }

        foreach (var (name, path) in new[]
        {
            ("TlsCertificatePath", TlsCertificatePath), ("TlsKeyPath", TlsKeyPath), ("TlsClientCaPath", TlsClientCaPath),
        })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                errors.Add($"{Section}:{name}: file not found: {path}");
            }
        }

        return errors;
    }
}
