using System.Net;
using System.Net.Sockets;

namespace NetObserv.Testing;

/// <summary>
/// Forwards 127.0.0.1:<see cref="Port"/> to a target port; <see cref="Stop"/> refuses new connections
/// and cuts open ones, as a database that goes away would; <see cref="Start"/> brings it back on the same port.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private readonly Lock _lock = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _cts;
    private Task? _accepting;
    private volatile bool _hang;

    public TcpProxy(int target)
    {
        _target = target;
    }

    public int Port { get; private set; }

    public void Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _cts = new CancellationTokenSource();
        _accepting = AcceptAsync(listener, _cts.Token);
    }

    /// <summary>
    /// Cuts open connections, then accepts new ones without ever answering: a database that hangs
    /// (a connection attempt waits for its timeout instead of being refused).
    /// </summary>
    public void Hang()
    {
        Stop();
        _hang = true;
        Start();
    }

    public void Stop()
    {
        _cts?.Cancel();
        _listener?.Stop();
        lock (_lock)
        {
            foreach (var client in _open)
            {
                client.Dispose();
            }

            _open.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                if (_hang)
                {
                    lock (_lock)
                    {
                        _open.Add(client);
                    }

                    continue;
                }

                var server = new TcpClient();
                await server.ConnectAsync(IPAddress.Loopback, _target, cancellationToken);
                lock (_lock)
                {
                    _open.Add(client);
                    _open.Add(server);
                }

                _ = PumpAsync(client, server, cancellationToken);
                _ = PumpAsync(server, client, cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken cancellationToken)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException
            or InvalidOperationException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        if (_accepting is not null)
        {
            await _accepting;
        }

        _cts?.Dispose();
    }
}
