using System.Globalization;

namespace NetObserv.Flows.Pbflow;

/// <summary>
/// Names for the kernel numbers the agent reports with packet drops, as NetObserv's flow format
/// spells them (<c>PktDropLatestState</c>, <c>PktDropLatestDropCause</c>). A number without a known
/// name is kept as its decimal text, so nothing the agent sent is lost.
/// </summary>
public static class PbflowNames
{
    /// <summary>The skb drop reason subsystem sits in the high 16 bits of the reason number.</summary>
    private const int SubsystemShift = 16;

    /// <summary>Open vSwitch's subsystem number (SKB_DROP_REASON_SUBSYS_OPENVSWITCH).</summary>
    private const int SubsystemOpenVSwitch = 3;

    // Linux include/net/tcp_states.h: TCP_ESTABLISHED = 1 ... TCP_BOUND_INACTIVE = 13.
    private static readonly string[] s_tcpStates =
    [
        "", "TCP_ESTABLISHED", "TCP_SYN_SENT", "TCP_SYN_RECV", "TCP_FIN_WAIT1", "TCP_FIN_WAIT2",
        "TCP_TIME_WAIT", "TCP_CLOSE", "TCP_CLOSE_WAIT", "TCP_LAST_ACK", "TCP_LISTEN", "TCP_CLOSING",
        "TCP_NEW_SYN_RECV", "TCP_BOUND_INACTIVE",
    ];

    // Linux enum skb_drop_reason (core subsystem) in the order of the 6.x kernels the agent's own
    // decoder names: 0 SKB_NOT_DROPPED_YET, 1 SKB_CONSUMED, then SKB_DROP_REASON_* from 2.
    private static readonly string[] s_coreDropReasons =
    [
        "SKB_NOT_DROPPED_YET", "SKB_CONSUMED", "NOT_SPECIFIED", "NO_SOCKET", "PKT_TOO_SMALL", "TCP_CSUM",
        "SOCKET_FILTER", "UDP_CSUM", "NETFILTER_DROP", "OTHERHOST", "IP_CSUM", "IP_INHDR", "IP_RPFILTER",
        "UNICAST_IN_L2_MULTICAST", "XFRM_POLICY", "IP_NOPROTO", "SOCKET_RCVBUFF", "PROTO_MEM",
        "TCP_MD5NOTFOUND", "TCP_MD5UNEXPECTED", "TCP_MD5FAILURE", "SOCKET_BACKLOG", "TCP_FLAGS",
        "TCP_ZEROWINDOW", "TCP_OLD_DATA", "TCP_OVERWINDOW", "TCP_OFOMERGE", "TCP_RFC7323_PAWS",
        "TCP_INVALID_SEQUENCE", "TCP_RESET", "TCP_INVALID_SYN", "TCP_CLOSE", "TCP_FASTOPEN", "TCP_OLD_ACK",
        "TCP_TOO_OLD_ACK", "TCP_ACK_UNSENT_DATA", "TCP_OFO_QUEUE_PRUNE", "TCP_OFO_DROP", "IP_OUTNOROUTES",
        "BPF_CGROUP_EGRESS", "IPV6DISABLED", "NEIGH_CREATEFAIL", "NEIGH_FAILED", "NEIGH_QUEUEFULL",
        "NEIGH_DEAD", "TC_EGRESS", "QDISC_DROP", "CPU_BACKLOG", "XDP", "TC_INGRESS", "UNHANDLED_PROTO",
        "SKB_CSUM", "SKB_GSO_SEG", "SKB_UCOPY_FAULT", "DEV_HDR", "DEV_READY", "FULL_RING", "NOMEM",
        "HDR_TRUNC", "TAP_FILTER", "TAP_TXFILTER", "ICMP_CSUM", "INVALID_PROTO", "IP_INADDRERRORS",
        "IP_INNOROUTES", "PKT_TOO_BIG", "DUP_FRAG", "FRAG_REASM_TIMEOUT", "FRAG_TOO_FAR", "TCP_MINTTL",
        "IPV6_BAD_EXTHDR", "IPV6_NDISC_FRAG", "IPV6_NDISC_HOP_LIMIT", "IPV6_NDISC_BAD_CODE",
        "IPV6_NDISC_BAD_OPTIONS", "IPV6_NDISC_NS_OTHERHOST", "QUEUE_PURGE", "TC_COOKIE_ERROR",
        "PACKET_SOCK_ERROR", "TC_CHAIN_NOTFOUND", "TC_RECLASSIFY_LOOP",
    ];

    // Linux net/openvswitch/drop.h, numbered from 1 within the Open vSwitch subsystem.
    private static readonly string[] s_ovsDropReasons =
    [
        "", "OVS_DROP_LAST_ACTION", "OVS_DROP_ACTION_ERROR", "OVS_DROP_EXPLICIT", "OVS_DROP_EXPLICIT_WITH_ERROR",
        "OVS_DROP_METER", "OVS_DROP_RECURSION_LIMIT", "OVS_DROP_DEFERRED_LIMIT", "OVS_DROP_FRAG_L2_TOO_LONG",
        "OVS_DROP_FRAG_INVALID_PROTO", "OVS_DROP_CONNTRACK", "OVS_DROP_IP_TTL",
    ];

    private static readonly string[] s_coreDropNames = BuildCoreNames();

    /// <summary>
    /// The kernel TCP state name for <paramref name="state"/> (1 is <c>TCP_ESTABLISHED</c>, 6
    /// <c>TCP_TIME_WAIT</c>, 12 <c>TCP_NEW_SYN_RECV</c>), or the number as text when it has none.
    /// </summary>
    public static string TcpState(uint state) =>
        state > 0 && state < (uint)s_tcpStates.Length
            ? s_tcpStates[state]
            : state.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The kernel drop reason name for <paramref name="cause"/>: <c>SKB_DROP_REASON_*</c> for the core
    /// subsystem (3 is <c>SKB_DROP_REASON_NO_SOCKET</c>), <c>OVS_DROP_*</c> for Open vSwitch
    /// (<c>3 &lt;&lt; 16 | n</c>), else the number as text. The core numbering is the one of the 6.x
    /// kernels up to 6.8; later kernels inserted reasons, so a newer kernel's number may name a neighbour.
    /// </summary>
    public static string DropCause(uint cause)
    {
        var subsystem = cause >> SubsystemShift;
        var reason = cause & 0xFFFF;
        if (subsystem == 0 && reason < (uint)s_coreDropNames.Length)
        {
            return s_coreDropNames[reason];
        }

        if (subsystem == SubsystemOpenVSwitch && reason > 0 && reason < (uint)s_ovsDropReasons.Length)
        {
            return s_ovsDropReasons[reason];
        }

        return cause.ToString(CultureInfo.InvariantCulture);
    }

    private static string[] BuildCoreNames()
    {
        var names = new string[s_coreDropReasons.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = i < 2 ? s_coreDropReasons[i] : "SKB_DROP_REASON_" + s_coreDropReasons[i];
        }

        return names;
    }
}
