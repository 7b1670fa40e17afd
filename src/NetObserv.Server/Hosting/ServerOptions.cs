using System.Net;

namespace NetObserv.Server.Hosting;

/// <summary>Listener settings (section <c>Server</c>).</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>
    /// Address every listener binds: <c>localhost</c> (loopback), an IP address, or <c>*</c> for all interfaces
    /// (IPv4 and IPv6). Defaults to <c>localhost</c>: nothing beyond this machine reaches the server until a
    /// deployment says so (<c>--listen</c>).
    /// </summary>
    public string ListenAddress { get; set; } = "localhost";

    /// <summary>
    /// HTTP port: Loki-compatible query API, Loki push, /metrics, /healthz, /ready; <c>0</c> or <c>-1</c>
    /// binds a free port chosen by the system (logged at start). Defaults to 3100.
    /// </summary>
    public int HttpPort { get; set; } = 3100;

    /// <summary>
    /// gRPC ingest port (pbflow.Collector/Send and gRPC health, h2c); <c>0</c> or <c>-1</c> binds a free port
    /// chosen by the system. Defaults to 2055.
    /// </summary>
    public int GrpcPort { get; set; } = 2055;

    /// <summary>
    /// gRPC query API port (netobserv.query.v1.QueryService and grpc.health.v1, h2c), used by the Grafana
    /// plugin; <c>0</c> or <c>-1</c> binds a free port chosen by the system. Not bound with
    /// <c>Server:Role=ingest</c>. Defaults to 9090.
    /// </summary>
    public int QueryGrpcPort { get; set; } = 9090;

    /// <summary>
    /// PEM certificate (chain) of the HTTP port; set, the port speaks HTTPS only (HTTP/1.1 and HTTP/2), and the
    /// files are read again when they change. Defaults to none (plain HTTP).
    /// </summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/>, unless that file holds it. Defaults to none.</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>IPFIX UDP port; 0 disables, -1 binds a free port chosen by the system. Defaults to 4739.</summary>
    public int IpfixPort { get; set; } = 4739;

    /// <summary>NetFlow v9 UDP port; 0 disables, -1 binds a free port chosen by the system. Defaults to 2055.</summary>
    public int NetflowPort { get; set; } = 2055;

    /// <summary>
    /// <c>all</c>: ingest and query. <c>ingest</c>: gRPC, UDP and Loki push listeners, no query endpoint.
    /// <c>query</c>: the query endpoints, no ingest listener and no push. Defaults to <c>all</c>.
    /// </summary>
    public ServerRole Role { get; set; } = ServerRole.All;

    /// <summary>True when the role takes flows in.</summary>
    public bool Ingests => Role != ServerRole.Query;

    /// <summary>True when the role answers queries.</summary>
    public bool Queries => Role != ServerRole.Ingest;

    /// <summary>True when <see cref="ListenAddress"/> is reachable only from this machine.</summary>
    public bool IsLoopbackOnly
    {
        get
        {
            var address = ListenAddress.Trim();
            return address.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(address.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        }
    }

    /// <summary>Every invalid setting, one line each naming the key and the allowed range.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        var address = ListenAddress.Trim();
        if (address is not ("*" or "any" or "") && !address.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            && !IPAddress.TryParse(address.Trim('[', ']'), out _))
        {
            errors.Add($"{Section}:ListenAddress must be localhost, an IP address or * (got '{ListenAddress}').");
        }

        void Port(string key, int value, bool zeroDisables)
        {
            if (value is < -1 or > 65535)
            {
                errors.Add($"{Section}:{key} must be between -1 and 65535 ({(zeroDisables ? "0 disables, " : "0 and ")}-1 picks a free port; got {value}).");
            }
        }

        Port(nameof(HttpPort), HttpPort, false);
        Port(nameof(GrpcPort), GrpcPort, false);
        Port(nameof(IpfixPort), IpfixPort, true);
        Port(nameof(NetflowPort), NetflowPort, true);
        if (!string.IsNullOrEmpty(TlsCertificatePath) && !File.Exists(TlsCertificatePath))
        {
            errors.Add($"{Section}:TlsCertificatePath must name a PEM file (not found: '{TlsCertificatePath}').");
        }

        if (!string.IsNullOrEmpty(TlsKeyPath) && (string.IsNullOrEmpty(TlsCertificatePath) || !File.Exists(TlsKeyPath)))
        {
            errors.Add($"{Section}:TlsKeyPath must name a PEM key file, with {Section}:TlsCertificatePath set (got '{TlsKeyPath}').");
        }

        if (!Enum.IsDefined(Role))
        {
            errors.Add($"{Section}:Role must be all, ingest or query.");
        }

        return errors;
    }
}

/// <summary>What one process does.</summary>
public enum ServerRole
{
    /// <summary>Ingest and query.</summary>
    All,

    /// <summary>Ingest only: no query endpoint.</summary>
    Ingest,

    /// <summary>Query only: no ingest listener, no push.</summary>
    Query,
}
