using System.Globalization;
using System.Net.Sockets;

namespace NetObserv.Server.Ingest;

/// <summary>
/// What the Linux kernel does with a UDP socket: the receive buffer it grants (and the <c>net.core.rmem_max</c>
/// cap that bounds it), and how many datagrams it dropped because that buffer was full (the <c>drops</c> column of
/// <c>/proc/net/udp</c> and <c>/proc/net/udp6</c>). A burst that outruns the receive loop lands in this buffer; a
/// burst bigger than the buffer is lost before any of our code sees it, so these two numbers say whether the
/// buffer must grow, and by how much. Elsewhere than Linux the buffer is set as asked and drops read as 0.
/// </summary>
internal static class UdpSocketKernel
{
    /// <summary>The kernel's cap on receive buffers that unprivileged sockets may ask for.</summary>
    public const string RmemMaxPath = "/proc/sys/net/core/rmem_max";

    private const int SolSocket = 1;
    private const int SoRcvBufForce = 33;
    private static int s_cappedReported;

    /// <summary>
    /// Asks for a receive buffer of <paramref name="requested"/> bytes: first with <c>SO_RCVBUFFORCE</c>, which a
    /// process with <c>CAP_NET_ADMIN</c> may use beyond <c>net.core.rmem_max</c>, then with <c>SO_RCVBUF</c>, which
    /// the kernel caps at it. Returns the size in effect, read back (Linux reports twice the usable size: it is
    /// halved here).
    /// </summary>
    public static ReceiveBuffer SetReceiveBuffer(Socket socket, int requested)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var forced = false;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                Span<byte> value = stackalloc byte[sizeof(int)];
                BitConverter.TryWriteBytes(value, requested);
                socket.SetRawSocketOption(SolSocket, SoRcvBufForce, value);
                forced = true;
            }
            catch (SocketException)
            {
                // No CAP_NET_ADMIN: the ordinary option, capped by net.core.rmem_max.
            }
        }

        if (!forced)
        {
            socket.ReceiveBufferSize = requested;
        }

        var effective = OperatingSystem.IsLinux() ? socket.ReceiveBufferSize / 2 : socket.ReceiveBufferSize;
        return new ReceiveBuffer(requested, effective, ReadRmemMax(), forced);
    }

    /// <summary>
    /// True the first time in this process that a buffer came out smaller than asked: the caller logs it once, with
    /// the sysctl that lifts the cap.
    /// </summary>
    public static bool FirstCappedReport(ReceiveBuffer buffer) =>
        buffer.Effective < buffer.Requested && Interlocked.Exchange(ref s_cappedReported, 1) == 0;

    /// <summary><c>net.core.rmem_max</c> in bytes, or null where it cannot be read.</summary>
    public static long? ReadRmemMax()
    {
        try
        {
            return long.TryParse(File.ReadAllText(RmemMaxPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture,
                out var value) ? value : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The socket's inode (from <c>/proc/self/fd</c>), which names it in <c>/proc/net/udp</c>; null elsewhere.</summary>
    public static long? InodeOf(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var fd = socket.SafeHandle.DangerousGetHandle().ToInt64();
            var target = new FileInfo("/proc/self/fd/" + fd.ToString(CultureInfo.InvariantCulture)).LinkTarget;
            const string Prefix = "socket:[";
            return target is not null && target.StartsWith(Prefix, StringComparison.Ordinal)
                && long.TryParse(target.AsSpan(Prefix.Length, target.Length - Prefix.Length - 1), NumberStyles.None,
                    CultureInfo.InvariantCulture, out var inode)
                ? inode
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>
    /// The datagrams the kernel dropped on the socket with inode <paramref name="inode"/> since it was opened
    /// (the last column of its line in <c>/proc/net/udp</c> or <c>/proc/net/udp6</c>); 0 when it is not found.
    /// </summary>
    public static long Drops(long inode)
    {
        foreach (var table in (string[])["/proc/net/udp", "/proc/net/udp6"])
        {
            try
            {
                foreach (var line in File.ReadLines(table).Skip(1))
                {
                    var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

                    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
                    if (fields.Length >= 13
                        && long.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var found)
                        && found == inode)
                    {
                        return long.TryParse(fields[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var drops)
                            ? drops
                            : 0;
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return 0;
    }

    /// <summary>A receive buffer as asked, as granted, the kernel's cap, and whether the cap was bypassed.</summary>
    public readonly record struct ReceiveBuffer(int Requested, int Effective, long? RmemMax, bool Forced);
}
