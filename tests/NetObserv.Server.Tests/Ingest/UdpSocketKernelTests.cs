using System.Net;
using System.Net.Sockets;
using NetObserv.Server.Ingest;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>What the kernel says about a real UDP socket on 127.0.0.1: the buffer it grants and the datagrams it drops.</summary>
public sealed class UdpSocketKernelTests
{
    [Fact]
    public void SetReceiveBuffer_Asked_ReadsBackWhatTheKernelGranted()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        const int Asked = 1 << 20;

        var buffer = UdpSocketKernel.SetReceiveBuffer(socket, Asked);

        Assert.Equal(Asked, buffer.Requested);
        var cap = buffer.Forced ? Asked : Math.Min(Asked, buffer.RmemMax ?? Asked);
        Assert.InRange(buffer.Effective, cap / 2, Asked);
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(buffer.RmemMax);
        }
    }

    [Fact]
    public async Task Drops_SocketNotRead_CountsWhatTheFullBufferRefused()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc/net/udp is Linux's
        }

        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.ReceiveBufferSize = 4096; // the kernel's minimum: a few datagrams fill it
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var inode = UdpSocketKernel.InodeOf(receiver);
        Assert.NotNull(inode);
        Assert.Equal(0, UdpSocketKernel.Drops(inode.Value));

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var datagram = new byte[1000];
        for (var i = 0; i < 200; i++)
        {
            await sender.SendToAsync(datagram, receiver.LocalEndPoint!).DefaultTimeout();
        }

        Assert.InRange(UdpSocketKernel.Drops(inode.Value), 100, 200);
    }
}
