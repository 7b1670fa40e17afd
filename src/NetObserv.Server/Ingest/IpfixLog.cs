using System.Net;
using NetObserv.Flows.Ipfix;

namespace NetObserv.Server.Ingest;

internal static partial class IpfixLog
{
    [LoggerMessage(EventId = 4100, EventName = "IpfixListening", Level = LogLevel.Information,
        Message = "{Protocol} collector listening on udp {EndPoint}")]
    public static partial void Listening(ILogger logger, string protocol, EndPoint endPoint);

    [LoggerMessage(EventId = 4101, EventName = "IpfixReceiveFailed", Level = LogLevel.Warning,
        Message = "UDP receive on {EndPoint} failed; continuing")]
    public static partial void ReceiveFailed(ILogger logger, EndPoint endPoint, Exception exception);

    [LoggerMessage(EventId = 4102, EventName = "IpfixPacketDropped", Level = LogLevel.Debug,
        Message = "Packet from {Exporter}: {Reason} at offset {Offset}, {Records} records kept")]
    public static partial void PacketDropped(ILogger logger, IPAddress exporter, IpfixDropReason reason, int offset, int records);

    [LoggerMessage(EventId = 4103, EventName = "IpfixDecodeFailed", Level = LogLevel.Error,
        Message = "Packet from {Exporter} could not be processed; dropped")]
    public static partial void DecodeFailed(ILogger logger, IPAddress exporter, Exception exception);

    [LoggerMessage(EventId = 4104, EventName = "IpfixReceiveBufferCapped", Level = LogLevel.Information,
        Message = "UDP receive buffer on {EndPoint} is {Actual} bytes, not the {Requested} of Ipfix:ReceiveBufferBytes: the kernel caps it at net.core.rmem_max = {RmemMax}. A burst larger than the buffer is dropped by the kernel (netobserv_ipfix_socket_drops_total); to allow it: sysctl -w net.core.rmem_max={Requested}")]
    public static partial void ReceiveBufferCapped(ILogger logger, EndPoint endPoint, int actual, int requested, long rmemMax);

    [LoggerMessage(EventId = 4105, EventName = "IpfixOfferFailed", Level = LogLevel.Error,
        Message = "A batch of {Records} decoded records could not be handed to ingest; dropped")]
    public static partial void OfferFailed(ILogger logger, int records, Exception exception);
}
