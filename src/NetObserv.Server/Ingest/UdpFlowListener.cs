using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using NetObserv.Flows.Ipfix;

namespace NetObserv.Server.Ingest;

/// <summary>
/// One bound UDP socket and its receive loop: datagrams are copied into pooled buffers and handed to a
/// bounded channel without waiting; when the channel is full the datagram is dropped and counted.
/// The loop runs on a thread of its own (a busy thread pool, the decoder or the database never delay
/// it), never blocks on anything but the socket and never throws out. What the kernel dropped before
/// the loop saw it is <see cref="KernelDrops"/>.
/// </summary>
internal sealed class UdpFlowListener : IDisposable
{
    /// <summary>The largest UDP payload.</summary>
    public const int MaxDatagram = 65_535;

    private readonly Socket _socket;
    private readonly ChannelWriter<UdpPacket> _queue;
    private readonly IpfixDecodeCounters _counters;
    private readonly ILogger _logger;
    private readonly long? _inode;
    private byte[] _lastAddressBytes = [];
    private IPAddress _lastAddress = IPAddress.None;

    private UdpFlowListener(Socket socket, ChannelWriter<UdpPacket> queue, IpfixDecodeCounters counters, ILogger logger)
    {
        _socket = socket;
        _queue = queue;
        _counters = counters;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _inode = UdpSocketKernel.InodeOf(socket);
    }

    /// <summary>The receive buffer the kernel granted (see <see cref="UdpSocketKernel.SetReceiveBuffer"/>).</summary>
    public UdpSocketKernel.ReceiveBuffer ReceiveBuffer { get; private init; }

    /// <summary>Datagrams the kernel dropped on this socket because its receive buffer was full.</summary>
    public long KernelDrops => _inode is { } inode ? UdpSocketKernel.Drops(inode) : 0;

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

            var buffer = receiveBufferBytes > 0 ? UdpSocketKernel.SetReceiveBuffer(socket, receiveBufferBytes) : default;
            socket.Bind(new IPEndPoint(address, port));
            var listener = new UdpFlowListener(socket, queue, counters, logger) { ReceiveBuffer = buffer };
            if (UdpSocketKernel.FirstCappedReport(buffer))
            {
                IpfixLog.ReceiveBufferCapped(logger, listener.LocalEndPoint, buffer.Effective, buffer.Requested,
                    buffer.RmemMax ?? 0);
            }

            return listener;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Receives on a dedicated thread until cancelled or the socket is closed (disposing the listener ends a
    /// receive in progress); the task completes when the thread has ended.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            using (cancellationToken.Register(Dispose))
            {
                Receive(cancellationToken);
            }

            done.TrySetResult();
        })
        {
            IsBackground = true,
            Name = "udp-receive-" + LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        thread.Start();
        return done.Task;
    }

    private void Receive(CancellationToken cancellationToken)
    {
        // One receive buffer for the largest datagram; each datagram is copied into a pooled array of its own size,
        // so thousands of queued packets hold kilobytes each, not 64 KiB (and cost the collector no GC pauses).
        var receive = new byte[MaxDatagram];
        var from = new SocketAddress(_socket.AddressFamily);
        while (!cancellationToken.IsCancellationRequested)
        {
            byte[]? buffer = null;
            var handedOff = false;
            try
            {
                var length = _socket.ReceiveFrom(receive, SocketFlags.None, from);
                buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                receive.AsSpan(0, length).CopyTo(buffer);
                if (_queue.TryWrite(new UdpPacket(buffer, length, Sender(from))))
                {
                    handedOff = true;
                }
                else
                {
                    _counters.AddDrop(IpfixDropReason.QueueFull);
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted
                || cancellationToken.IsCancellationRequested)
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
                if (!handedOff && buffer is not null)
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
