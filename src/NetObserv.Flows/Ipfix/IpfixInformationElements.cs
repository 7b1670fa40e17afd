namespace NetObserv.Flows.Ipfix;

/// <summary>
/// The IANA IPFIX information elements (and their NetFlow v9 field types, which share the numbers)
/// that map onto <see cref="FlowRecord"/>. The one place where wire numbers meet flow fields.
/// </summary>
internal static class IpfixInformationElements
{
    public const ushort OctetDeltaCount = 1;
    public const ushort PacketDeltaCount = 2;
    public const ushort ProtocolIdentifier = 4;
    public const ushort IpClassOfService = 5;
    public const ushort TcpControlBits = 6;
    public const ushort SourceTransportPort = 7;
    public const ushort SourceIPv4Address = 8;
    public const ushort IngressInterface = 10;
    public const ushort DestinationTransportPort = 11;
    public const ushort DestinationIPv4Address = 12;
    public const ushort EgressInterface = 14;
    public const ushort FlowEndSysUpTime = 21;
    public const ushort FlowStartSysUpTime = 22;
    public const ushort SourceIPv6Address = 27;
    public const ushort DestinationIPv6Address = 28;
    public const ushort IcmpTypeCodeIPv4 = 32;
    public const ushort SamplingInterval = 34;
    public const ushort SamplerId = 48;
    public const ushort SamplerRandomInterval = 50;
    public const ushort SourceMacAddress = 56;
    public const ushort PostDestinationMacAddress = 57;
    public const ushort FlowDirection = 61;
    public const ushort DestinationMacAddress = 80;
    public const ushort PostSourceMacAddress = 81;
    public const ushort InterfaceName = 82;
    public const ushort OctetTotalCount = 85;
    public const ushort PacketTotalCount = 86;
    public const ushort IcmpTypeCodeIPv6 = 139;
    public const ushort FlowStartSeconds = 150;
    public const ushort FlowEndSeconds = 151;
    public const ushort FlowStartMilliseconds = 152;
    public const ushort FlowEndMilliseconds = 153;
    public const ushort FlowStartMicroseconds = 154;
    public const ushort FlowEndMicroseconds = 155;
    public const ushort FlowStartNanoseconds = 156;
    public const ushort FlowEndNanoseconds = 157;
    public const ushort SystemInitTimeMilliseconds = 160;
    public const ushort IcmpTypeIPv4 = 176;
    public const ushort IcmpCodeIPv4 = 177;
    public const ushort IcmpTypeIPv6 = 178;
    public const ushort IcmpCodeIPv6 = 179;
    public const ushort EthernetType = 256;
    public const ushort SelectorId = 302;
    public const ushort SamplingPacketInterval = 305;
    public const ushort SamplingPacketSpace = 306;

    /// <summary>The decoder's action for an IANA (enterprise 0) element.</summary>
    public static IpfixFieldKind KindOf(ushort elementId) => elementId switch
    {
        OctetDeltaCount => IpfixFieldKind.OctetDeltaCount,
        PacketDeltaCount => IpfixFieldKind.PacketDeltaCount,
        OctetTotalCount => IpfixFieldKind.OctetTotalCount,
        PacketTotalCount => IpfixFieldKind.PacketTotalCount,
        ProtocolIdentifier => IpfixFieldKind.ProtocolIdentifier,
        IpClassOfService => IpfixFieldKind.IpClassOfService,
        TcpControlBits => IpfixFieldKind.TcpControlBits,
        SourceTransportPort => IpfixFieldKind.SourceTransportPort,
        DestinationTransportPort => IpfixFieldKind.DestinationTransportPort,
        SourceIPv4Address => IpfixFieldKind.SourceIPv4Address,
        DestinationIPv4Address => IpfixFieldKind.DestinationIPv4Address,
        SourceIPv6Address => IpfixFieldKind.SourceIPv6Address,
        DestinationIPv6Address => IpfixFieldKind.DestinationIPv6Address,
        IngressInterface => IpfixFieldKind.IngressInterface,
        EgressInterface => IpfixFieldKind.EgressInterface,
        InterfaceName => IpfixFieldKind.InterfaceName,
        SourceMacAddress => IpfixFieldKind.SourceMacAddress,
        DestinationMacAddress => IpfixFieldKind.DestinationMacAddress,
        PostSourceMacAddress => IpfixFieldKind.PostSourceMacAddress,
        PostDestinationMacAddress => IpfixFieldKind.PostDestinationMacAddress,
        IcmpTypeCodeIPv4 => IpfixFieldKind.IcmpTypeCodeIPv4,
        IcmpTypeCodeIPv6 => IpfixFieldKind.IcmpTypeCodeIPv6,
        IcmpTypeIPv4 => IpfixFieldKind.IcmpTypeIPv4,
        IcmpCodeIPv4 => IpfixFieldKind.IcmpCodeIPv4,
        IcmpTypeIPv6 => IpfixFieldKind.IcmpTypeIPv6,
        IcmpCodeIPv6 => IpfixFieldKind.IcmpCodeIPv6,
        FlowDirection => IpfixFieldKind.FlowDirection,
        EthernetType => IpfixFieldKind.EthernetType,
        FlowStartSeconds => IpfixFieldKind.FlowStartSeconds,
        FlowEndSeconds => IpfixFieldKind.FlowEndSeconds,
        FlowStartMilliseconds => IpfixFieldKind.FlowStartMilliseconds,
        FlowEndMilliseconds => IpfixFieldKind.FlowEndMilliseconds,
        FlowStartMicroseconds => IpfixFieldKind.FlowStartMicroseconds,
        FlowEndMicroseconds => IpfixFieldKind.FlowEndMicroseconds,
        FlowStartNanoseconds => IpfixFieldKind.FlowStartNanoseconds,
        FlowEndNanoseconds => IpfixFieldKind.FlowEndNanoseconds,
        FlowStartSysUpTime => IpfixFieldKind.FlowStartSysUpTime,
        FlowEndSysUpTime => IpfixFieldKind.FlowEndSysUpTime,
        SystemInitTimeMilliseconds => IpfixFieldKind.SystemInitTimeMilliseconds,
        SamplingInterval => IpfixFieldKind.SamplingInterval,
        SamplerRandomInterval => IpfixFieldKind.SamplerRandomInterval,
        SamplingPacketInterval => IpfixFieldKind.SamplingPacketInterval,
        SamplingPacketSpace => IpfixFieldKind.SamplingPacketSpace,
        SamplerId => IpfixFieldKind.SamplerId,
        SelectorId => IpfixFieldKind.SelectorId,
        _ => IpfixFieldKind.Skip,
    };
}
