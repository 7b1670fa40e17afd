namespace NetObserv.Server.Ingest;

/// <summary>
/// gRPC ingest settings (section <c>Ingest</c>): the pbflow collector the eBPF agent sends to on
/// <c>Server:GrpcPort</c>. Plain HTTP/2 (h2c) unless a certificate is configured.
/// </summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>
    /// Default largest <c>Send</c> message: 16 MiB, five times what 10,000 records with every feature on take
    /// (about 2.7 MB).
    /// </summary>
    public const int DefaultMaxReceiveMessageSize = 16 * 1024 * 1024;

    /// <summary>
    /// Largest accepted <c>Send</c> message in bytes; a larger one fails with <c>RESOURCE_EXHAUSTED</c>. The
    /// agent sends up to <c>GRPC_MESSAGE_MAX_FLOWS</c> (10,000 by default) records per message, about 1 to
    /// 3 MB. With <see cref="MaxRecordsPerMessage"/> it bounds what one message costs the heap (see there).
    /// Defaults to 16 MiB.
    /// </summary>
    public int MaxReceiveMessageSize { get; set; } = DefaultMaxReceiveMessageSize;

    /// <summary>Default <see cref="MaxRecordsPerMessage"/>: five times what the agent sends at most.</summary>
    public const int DefaultMaxRecordsPerMessage = 50_000;

    /// <summary>
    /// Most records accepted in one <c>Send</c>, counted from the message outline before it is parsed; a
    /// message with more is refused with <c>RESOURCE_EXHAUSTED</c> without being decoded (a message larger
    /// than <c>Storage:ChannelCapacity</c> records is refused the same way). The agent sends at most
    /// <c>GRPC_MESSAGE_MAX_FLOWS</c> (10,000 by default). With <see cref="MaxReceiveMessageSize"/> this bounds
    /// what one message costs the heap while it is parsed and mapped: a record costs about 0.9 KB however
    /// few bytes it takes on the wire (an empty one takes 2), and everything inside records at most about
    /// 30 bytes of heap per byte of wire (empty nested messages; text takes 2 bytes per byte). The worst
    /// case is so about MaxRecordsPerMessage × 0.9 KB + 30 × the message size: 45 MB + 30 × the body,
    /// at most about 0.5 GB with both defaults, for the time of the call. Defaults to 50,000.
    /// </summary>
    public int MaxRecordsPerMessage { get; set; } = DefaultMaxRecordsPerMessage;

    /// <summary>
    /// How far in the future a flow may end (clocks drift; Loki's <c>creation_grace_period</c>). gRPC and IPFIX
    /// records ending later are dropped and counted (<c>too_far_in_future</c>), pushed lines are answered 400.
    /// Records older than <c>Storage:Retention</c> are refused the same way (<c>too_old</c>), so partitions
    /// are only created inside the retention window. At most 1 day. Defaults to 10 minutes.
    /// </summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(10);

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

        if (MaxRecordsPerMessage < 1)
        {
            errors.Add($"{Section}:MaxRecordsPerMessage must be positive (was {MaxRecordsPerMessage})");
        }

        if (MaxFutureSkew < TimeSpan.Zero || MaxFutureSkew > TimeSpan.FromDays(1))
        {
            errors.Add($"{Section}:MaxFutureSkew must be between 00:00:00 and 1.00:00:00 (was {MaxFutureSkew})");
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
