using NetObserv.Server.Ingest;

namespace NetObserv.Server.Tests.Ingest;

public sealed class GrpcIngestOptionsTests
{
    [Fact]
    public void Validate_Defaults_NoErrorsAndRoomForTenThousandRecords()
    {
        var options = new IngestOptions();

        Assert.Empty(options.Validate());
        Assert.Null(options.TlsCertificatePath);
        Assert.True(options.MaxReceiveMessageSize >= 10_000 * 1_000);
    }

    [Fact]
    public void Validate_EveryProblem_ReportedAtOnce()
    {
        var options = new IngestOptions
        {
            MaxReceiveMessageSize = 1000,
            TlsKeyPath = "/nonexistent/tls.key",
            TlsClientCaPath = "/nonexistent/ca.crt",
            TlsRequireClientCertificate = true,
        };

        var errors = options.Validate();

        Assert.Contains(errors, e => e.Contains("MaxReceiveMessageSize", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("TlsKeyPath is set without", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("TlsClientCaPath needs", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("file not found: /nonexistent/tls.key", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("file not found: /nonexistent/ca.crt", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_RequireClientCertificateWithoutCa_Error()
    {
        var options = new IngestOptions { TlsRequireClientCertificate = true };

        Assert.Contains(options.Validate(), e => e.Contains("TlsRequireClientCertificate needs", StringComparison.Ordinal));
    }
}
