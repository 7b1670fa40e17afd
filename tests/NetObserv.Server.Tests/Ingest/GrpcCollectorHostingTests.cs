using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Flows;
using NetObserv.Flows.Enrichment;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Commands;
using NetObserv.Server.Hosting;
using NetObserv.Server.Loadgen;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>The collector's hosting: enrichment hook, TLS and mTLS listener, and the load generator against it.</summary>
public sealed class GrpcCollectorHostingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netobserv-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Send_WithEnricherRegistered_EveryRecordEnrichedBeforeWriting()
    {
        var cs = await PostgresServer.CreateDatabaseAsync("enr").DefaultTimeout();
        var journal = Directory.CreateTempSubdirectory("netobserv-journal-");
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Storage:ConnectionString"] = cs,
            // Native partitions: the test server preloads TimescaleDB when it is installed, and auto would choose it.
            ["Storage:TimescaleDb"] = "off",
            ["Storage:JournalDirectory"] = journal.FullName,
            ["Server:ListenAddress"] = "127.0.0.1",
            ["Server:HttpPort"] = "-1",
            ["Server:GrpcPort"] = "-1",
            ["Server:QueryGrpcPort"] = "-1",
            ["Server:IpfixPort"] = "0",
            ["Server:NetflowPort"] = "0",
            ["Enrichment:Kubernetes"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var app = await NetObservHost.BuildAsync(new ParsedCommandLine("serve", values, []),
            b => b.Services.AddSingleton<IFlowEnricher, ClusterNameEnricher>(), CancellationToken.None).DefaultTimeout();
        try
        {
            await app.StartAsync().DefaultTimeout();
            using var channel = GrpcIngestClient.Channel(app.Services.GetRequiredService<ListenerEndpoints>().Grpc!.Port);
            var client = new Collector.CollectorClient(channel);

            await client.SendAsync(GrpcIngestClient.Batch(25, 0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()))
                .ResponseAsync.DefaultTimeout();

            await Timeouts.WaitUntilAsync(async () => await ScalarAsync(cs,
                "SELECT count(*) FROM flows WHERE k8s_cluster_name = 'enriched-' || host(src_addr)") == 25,
                what: "25 enriched rows");
            Assert.Equal(25, await ScalarAsync(cs, "SELECT count(*) FROM flows"));
        }
        finally
        {
            await app.StopAsync().DefaultTimeout();
            await app.DisposeAsync();
            await PostgresServer.DropDatabaseAsync(cs);
            journal.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Send_OverTls_AcceptedWhenClientTrustsServerCertificate()
    {
        var pki = TestPki.Create(_dir);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Ingest:TlsCertificatePath"] = pki.ServerCertificatePath,
            ["Ingest:TlsKeyPath"] = pki.ServerKeyPath,
        });
        using var channel = pki.Channel(server.GrpcPort, clientCertificate: false);
        var client = new Collector.CollectorClient(channel);

        await client.SendAsync(GrpcIngestClient.Batch(4, 0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()))
            .ResponseAsync.DefaultTimeout();

        await Timeouts.WaitUntilAsync(async () => await ScalarAsync(server.ConnectionString, "SELECT count(*) FROM flows") == 4,
            what: "4 rows");
    }

    [Fact]
    public async Task Send_MutualTlsRequired_RefusesClientWithoutCertificateAcceptsClientWithOne()
    {
        var pki = TestPki.Create(_dir);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Ingest:TlsCertificatePath"] = pki.ServerCertificatePath,
            ["Ingest:TlsKeyPath"] = pki.ServerKeyPath,
            ["Ingest:TlsClientCaPath"] = pki.CaPath,
            ["Ingest:TlsRequireClientCertificate"] = "true",
        });
        var batch = GrpcIngestClient.Batch(3, 0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        using (var anonymous = pki.Channel(server.GrpcPort, clientCertificate: false))
        {
            var ex = await Assert.ThrowsAsync<RpcException>(
                () => new Collector.CollectorClient(anonymous).SendAsync(batch).ResponseAsync.DefaultTimeout());
            // The handshake is refused; the client reports the broken connection as one of these.
            Assert.Contains(ex.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        }

        using (var authenticated = pki.Channel(server.GrpcPort, clientCertificate: true))
        {
            await new Collector.CollectorClient(authenticated).SendAsync(batch).ResponseAsync.DefaultTimeout();
        }

        await Timeouts.WaitUntilAsync(async () => await ScalarAsync(server.ConnectionString, "SELECT count(*) FROM flows") == 3,
            what: "3 rows");
        await Task.Delay(300);
        Assert.Equal(3, await ScalarAsync(server.ConnectionString, "SELECT count(*) FROM flows"));
    }

    [Fact]
    public async Task Send_PlainTextToTlsListener_Fails()
    {
        var pki = TestPki.Create(_dir);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Ingest:TlsCertificatePath"] = pki.ServerCertificatePath,
            ["Ingest:TlsKeyPath"] = pki.ServerKeyPath,
        });
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);

        var ex = await Assert.ThrowsAsync<RpcException>(() => new Collector.CollectorClient(channel)
            .SendAsync(GrpcIngestClient.Batch(1, 0, 0)).ResponseAsync.DefaultTimeout());

        Assert.NotEqual(StatusCode.OK, ex.StatusCode);
    }

    [Fact]
    public async Task Loadgen_ShortRun_EveryAcknowledgedFlowWritten()
    {
        await using var server = await RunningServer.StartAsync();
        var options = new GrpcLoadOptions
        {
            Target = "127.0.0.1:" + server.GrpcPort.ToString(CultureInfo.InvariantCulture),
            Duration = TimeSpan.FromSeconds(2),
            FlowsPerMessage = 200,
            Concurrency = 2,
            Rate = 2_000,
        };
        var progress = new List<GrpcLoadGenerator.Progress>();

        var result = await new GrpcLoadGenerator(options, SyntheticCluster.Create()).RunAsync(progress.Add,
            CancellationToken.None).DefaultTimeout();

        Assert.True(result.Acknowledged > 0);
        Assert.Equal(result.Sent, result.Acknowledged + result.Refused + result.Failed);
        Assert.Equal(0, result.Failed);
        Assert.NotEmpty(progress);
        Assert.InRange(result.Sent, 200, 6_000);
        await Timeouts.WaitUntilAsync(async () =>
            await ScalarAsync(server.ConnectionString, "SELECT count(*) FROM flows") == result.Acknowledged,
            what: result.Acknowledged + " rows");
        Assert.True(await ScalarAsync(server.ConnectionString, "SELECT count(*) FROM flows WHERE family(src_addr) = 6") > 0);
        Assert.True(await ScalarAsync(server.ConnectionString, "SELECT count(DISTINCT proto) FROM flows") >= 3);
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Stamps each record with a value derived from its own source address.</summary>
    private sealed class ClusterNameEnricher : IFlowEnricher
    {
        public void Enrich(FlowRecord record) => record.K8SClusterName = "enriched-" + record.SrcAddr;
    }

    /// <summary>A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, as PEM files.</summary>
    private sealed class TestPki
    {
        private X509Certificate2 _ca = null!;
        private X509Certificate2 _client = null!;

        public string CaPath { get; private init; } = "";
        public string ServerCertificatePath { get; private init; } = "";
        public string ServerKeyPath { get; private init; } = "";

        public static TestPki Create(string dir)
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=netobserv test CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(
                X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            var now = DateTimeOffset.UtcNow;
            var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

            using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            serverRequest.CertificateExtensions.Add(san.Build());
            serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1")], false));
            using var server = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), [1, 2, 3, 4]);

            using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var clientRequest = new CertificateRequest("CN=ebpf-agent", clientKey, HashAlgorithmName.SHA256);
            clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var clientPublic = clientRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), [5, 6, 7, 8]);
            var client = clientPublic.CopyWithPrivateKey(clientKey);

            var pki = new TestPki
            {
                CaPath = Path.Combine(dir, "ca.crt"),
                ServerCertificatePath = Path.Combine(dir, "tls.crt"),
                ServerKeyPath = Path.Combine(dir, "tls.key"),
                _ca = ca,
                _client = client,
            };
            File.WriteAllText(pki.CaPath, ca.ExportCertificatePem());
            File.WriteAllText(pki.ServerCertificatePath, server.ExportCertificatePem());
            File.WriteAllText(pki.ServerKeyPath, serverKey.ExportPkcs8PrivateKeyPem());
            return pki;
        }

        public GrpcChannel Channel(int port, bool clientCertificate)
        {
            var handler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => ChainsToCa(certificate),
                    ClientCertificates = clientCertificate ? new X509CertificateCollection { _client } : null,
                },
            };
            return GrpcChannel.ForAddress($"https://127.0.0.1:{port}",
                new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        }

        private bool ChainsToCa(X509Certificate? certificate)
        {
            if (certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(_ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        }
    }
}
