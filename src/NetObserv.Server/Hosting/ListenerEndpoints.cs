using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace NetObserv.Server.Hosting;

/// <summary>
/// Where the HTTP and gRPC listeners are bound once the host has started. A port configured as
/// <c>0</c> or <c>-1</c> asks the system for a free one; this is where it is read back (tests bind
/// that way, so suites running side by side never collide).
/// </summary>
public sealed class ListenerEndpoints
{
    private ListenOptions? _http;
    private ListenOptions? _grpc;
    private ListenOptions? _queryGrpc;

    /// <summary>The HTTP listener (Loki API, push, /metrics), null before start.</summary>
    public IPEndPoint? Http => _http?.IPEndPoint;

    /// <summary>The gRPC ingest listener, null before start or with <c>Server:Role=query</c>.</summary>
    public IPEndPoint? Grpc => _grpc?.IPEndPoint;

    /// <summary>The gRPC query API listener, null before start or with <c>Server:Role=ingest</c>.</summary>
    public IPEndPoint? QueryGrpc => _queryGrpc?.IPEndPoint;

    internal void SetQueryGrpc(ListenOptions options) => _queryGrpc = options;

    internal void SetHttp(ListenOptions options) => _http = options;

    internal void SetGrpc(ListenOptions options) => _grpc = options;

    /// <summary>The port to bind for a configured one: negative means any free port (0).</summary>
    internal static int Bindable(int configured) => configured < 0 ? 0 : configured;
}
