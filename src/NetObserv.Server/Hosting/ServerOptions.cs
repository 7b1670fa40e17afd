namespace NetObserv.Server.Hosting;

/// <summary>Listener settings (section <c>Server</c>).</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>Address every listener binds. Defaults to all interfaces, IPv4 and IPv6 (<c>*</c>).</summary>
    public string ListenAddress { get; set; } = "*";

    /// <summary>
    /// HTTP port: Loki-compatible query API, Loki push, /metrics, /healthz, /ready; <c>0</c> or <c>-1</c>
    /// binds a free port chosen by the system (logged at start). Defaults to 3100.
    /// </summary>
    public int HttpPort { get; set; } = 3100;

    /// <summary>
    /// gRPC ingest port (pbflow.Collector/Send, h2c); <c>0</c> or <c>-1</c> binds a free port chosen by
    /// the system. Defaults to 2055.
    /// </summary>
    public int GrpcPort { get; set; } = 2055;

    /// <summary>
    /// gRPC query API port (netobserv.query.v1.QueryService and grpc.health.v1, h2c), used by the Grafana
    /// plugin; <c>0</c> or <c>-1</c> binds a free port chosen by the system. Not bound with
    /// <c>Server:Role=ingest</c>. Defaults to 9090.
    /// </summary>
    public int QueryGrpcPort { get; set; } = 9090;

    /// <summary>IPFIX UDP port; 0 disables, -1 binds a free port chosen by the system. Defaults to 4739.</summary>
    public int IpfixPort { get; set; } = 4739;

    /// <summary>NetFlow v9 UDP port; 0 disables, -1 binds a free port chosen by the system. Defaults to 2055.</summary>
    public int NetflowPort { get; set; } = 2055;

    /// <summary><c>all</c>, <c>ingest</c> or <c>query</c>. Defaults to <c>all</c>.</summary>
    public string Role { get; set; } = "all";
}
