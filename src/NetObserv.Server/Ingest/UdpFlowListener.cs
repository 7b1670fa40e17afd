using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using NetObserv.Flows.Ipfix;

namespace NetObserv.Server.Ingest;

/// <summary>
/// One bound UDP socket and its receive loop: datagrams land in pooled buffers and are handed to a
/// bounded channel without waiting; when the channel is full the datagram is dropped and counted.
/// The loop never blocks on the decoder or the database and never throws out.
/// </summary>
internal sealed class UdpFlowListener : IDisposable
{
    /// <summary>The largest UDP payload.</summary>
    public const int MaxDatagram = 65_535;

    private readonly Socket _socket;
    private readonly ChannelWriter<UdpPacket> _queue;
    private readonly IpfixDecodeCounters _counters;
    private readonly ILogger _logger;
    private byte[] _lastAddressBytes = [];
    private IPAddress _lastAddress = IPAddress.None;

    private UdpFlowListener(Socket socket, ChannelWriter<UdpPacket> queue, IpfixDecodeCounters counters, ILogger logger)
    {
        _socket = socket;
        _queue = queue;
        _counters = counters;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Binds <paramref name="address"/>:<paramref name="port"/>. <see cref="IPAddress.IPv6Any"/> makes one
    /// dual-mode socket that takes IPv4 and IPv6.
    /// </summary>
    public static UdpFlowListener Bind(IPAddress address, int port, int receiveBufferBytes, ChannelWriter<UdpPacket> queue,
        IpfixDecodeCounters counters, ILogger logger)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            if (receiveBufferBytes > 0)
            {
                socket.ReceiveBufferSize = receiveBufferBytes;
            }

            socket.Bind(new IPEndPoint(address, port));
            var listener = new UdpFlowListener(socket, queue, counters, logger);
            if (receiveBufferBytes > 0 && socket.ReceiveBufferSize < receiveBufferBytes)
            {
                IpfixLog.ReceiveBufferCapped(logger, listener.LocalEndPoint, socket.ReceiveBufferSize, receiveBufferBytes);
            }

            return listener;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Receives until cancelled or the socket is closed.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var from = new SocketAddress(_socket.AddressFamily);
        while (!cancellationToken.IsCancellationRequested)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(MaxDatagram);
            var handedOff = false;
            try
            {
                var length = await _socket.ReceiveFromAsync(buffer.AsMemory(0, MaxDatagram), SocketFlags.None, from,
                    cancellationToken).ConfigureAwait(false);
                if (_queue.TryWrite(new UdpPacket(buffer, length, Sender(from))))
                {
                    handedOff = true;
                }
                else
                {
                    _counters.AddDrop(IpfixDropReason.QueueFull);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                return;
            }
            catch (SocketException e)
            {
                // ICMP errors reported on the socket and the like: the next datagram is unaffected.
                IpfixLog.ReceiveFailed(_logger, LocalEndPoint, e);
            }
            finally
            {
                if (!handedOff)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    /// <summary>The sender as an address (IPv4-mapped IPv6 unmapped); the last one is reused while it repeats.</summary>
    private IPAddress Sender(SocketAddress from)
    {
        var bytes = from.Buffer.Span[..from.Size];
        if (bytes.SequenceEqual(_lastAddressBytes))
        {
            return _lastAddress;
        }

        var endPoint = (IPEndPoint)LocalEndPoint.Create(from);
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        _lastAddressBytes = bytes.ToArray();
        _lastAddress = address;
        return address;
    }

    public void Dispose() => _socket.Dispose();
}
