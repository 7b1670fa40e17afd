using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetObserv.Server.Hosting;

namespace NetObserv.Server.Demo;

/// <summary>
/// The addresses the demo prints (for a user on this machine) and the ones it connects to itself.
/// </summary>
internal sealed record DemoUrls(Uri Http, Uri ExampleQuery, string Grpc, Uri LocalHttp, Uri LocalGrpc)
{
    /// <summary>Flows per second by source namespace, the example printed with curl.</summary>
    public const string ExampleQueryText = "sum by (SrcK8S_Namespace) (rate({app=\"netobserv-flowcollector\"}[5m]))";

    /// <summary>The path and query string of the example query over the last hour.</summary>
    public static string ExamplePathAndQuery =>
        "/loki/api/v1/query_range?query=" + Uri.EscapeDataString(ExampleQueryText) + "&since=1h";

    /// <summary>
    /// The URLs for <paramref name="server"/>'s listen address and the ports the listeners are bound to
    /// (<paramref name="endpoints"/>, which differ from the configured ones when those ask for a free port).
    /// </summary>
    public static DemoUrls For(ServerOptions server, ListenerEndpoints? endpoints = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var listen = server.ListenAddress.Trim();
        string shown, local;
        if (listen is "*" or "" or "any" or "localhost" or "0.0.0.0")
        {
            shown = "localhost";
            local = "127.0.0.1";
        }
        else if (IPAddress.TryParse(listen.Trim('[', ']'), out var address))
        {
            shown = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            local = address.Equals(IPAddress.IPv6Any) ? "[::1]" : shown;
            shown = address.Equals(IPAddress.IPv6Any) ? "localhost" : shown;
        }
        else
        {
            shown = local = listen;
        }

        var http = (endpoints?.Http?.Port ?? server.HttpPort).ToString(CultureInfo.InvariantCulture);
        var grpc = (endpoints?.Grpc?.Port ?? server.GrpcPort).ToString(CultureInfo.InvariantCulture);
        return new DemoUrls(new Uri($"http://{shown}:{http}"), new Uri($"http://{shown}:{http}{ExamplePathAndQuery}"),
            $"{shown}:{grpc}", new Uri($"http://{local}:{http}"), new Uri($"http://{local}:{grpc}"));
    }
}
