using System.Globalization;
using System.Net;
using NetObserv.Flows.Fields;

namespace NetObserv.Flows.Pbflow;

/// <summary>
/// The agent's fields that have no column, written into <see cref="FlowRecord.ExtraFields"/> under the names
/// the agent's own decoder gives them (flowlogs-pipeline's <c>RecordToMap</c>), so they come back in log lines
/// and <c>| json</c> filters:
/// <list type="bullet">
/// <item><c>DnsFlagsResponseCode</c> (the RCODE of <c>dns_flags</c> by name) when the DNS id is not zero;</item>
/// <item><c>PktDropLatestFlags</c> with the other drop fields;</item>
/// <item><c>NetworkEvents</c>: one object of text per <c>network_events_metadata</c> entry;</item>
/// <item><c>ZoneId</c>, <c>XlatSrcAddr</c>, <c>XlatDstAddr</c>, <c>XlatSrcPort</c>, <c>XlatDstPort</c> when
/// <c>xlat</c> holds an address (ports when not zero);</item>
/// <item><c>IPSecStatus</c> (<c>success</c>/<c>error</c>) and <c>IPSecRetCode</c>;</item>
/// <item><c>Udns</c>, parallel to <c>Interfaces</c>, when a <c>dup_list</c> entry names a user-defined network;</item>
/// <item><c>TLSVersion</c>, <c>TLSTypes</c>, <c>TLSCipherSuite</c>, <c>TLSGroup</c> and <c>TLSMismatch</c> from the
/// TLS tracking fields (names where known, else <c>0x</c> and four hex digits);</item>
/// <item><c>QuicVersion</c>, <c>QuicSeenLongHdr</c>, <c>QuicSeenShortHdr</c> when <c>quic</c> is set.</item>
/// </list>
/// </summary>
public static class PbflowExtraFields
{
    [ThreadStatic]
    private static FlowExtraFieldsWriter? s_extra;

    // RFC 6895 section 2.3 (DNS RCODEs), as the agent names them.
    private static readonly Dictionary<uint, string> s_rcodes = new()
    {
        [0] = "NoError",
        [1] = "FormErr",
        [2] = "ServFail",
        [3] = "NXDomain",
        [4] = "NotImp",
        [5] = "Refused",
        [6] = "YXDomain",
        [7] = "YXRRSet",
        [8] = "NXRRSet",
        [9] = "NotAuth",
        [10] = "NotZone",
        [16] = "BADVERS",
        [17] = "BADKEY",
        [18] = "BADTIME",
        [19] = "BADMODE",
        [20] = "BADNAME",
        [21] = "BADALG",
    };

    private static readonly Dictionary<uint, string> s_tlsVersions = new()
    {
        [0x0300] = "SSL 3.0",
        [0x0301] = "TLS 1.0",
        [0x0302] = "TLS 1.1",
        [0x0303] = "TLS 1.2",
        [0x0304] = "TLS 1.3",
    };

    // IANA TLS cipher suites most seen (the TLS 1.3 ones and the common TLS 1.2 ECDHE ones).
    private static readonly Dictionary<uint, string> s_cipherSuites = new()
    {
        [0x1301] = "TLS_AES_128_GCM_SHA256",
        [0x1302] = "TLS_AES_256_GCM_SHA384",
        [0x1303] = "TLS_CHACHA20_POLY1305_SHA256",
        [0xC02B] = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        [0xC02C] = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        [0xC02F] = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        [0xC030] = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        [0xCCA8] = "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        [0xCCA9] = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    };

    // IANA TLS supported groups.
    private static readonly Dictionary<uint, string> s_groups = new()
    {
        [23] = "secp256r1",
        [24] = "secp384r1",
        [25] = "secp521r1",
        [29] = "x25519",
        [30] = "x448",
        [256] = "ffdhe2048",
        [257] = "ffdhe3072",
        [4588] = "X25519MLKEM768",
    };

    // The agent's tls_types bits (pkg/model/tls_types.go).
    private static readonly (uint Bit, string Name)[] s_tlsTypes =
    [
        (1, "ClientHello"), (2, "ServerHello"), (4, "OtherHandshake"), (8, "ChangeCipher"), (16, "Alert"),
        (32, "AppData"),
    ];

    /// <summary>
    /// Writes a record's fields that have no column into <paramref name="flow"/>'s
    /// <see cref="FlowRecord.ExtraFields"/> (left null when there is none; nothing is allocated then): the DNS
    /// response code and the drop flags from <paramref name="values"/>, the others from <paramref name="record"/>
    /// when the generated parser read it (<see cref="PbflowReader"/> reads only records without them, and passes
    /// null).
    /// </summary>
    internal static void Map(in PbflowValues values, Record? record, FlowRecord flow)
    {
        var dns = values.DnsId != 0;
        var drop = values.HasDrop;
        if (!dns && !drop && (record is null || !HasOthers(record)))
        {
            return;
        }

        // One writer per thread, reset for each record: Map runs to its end without yielding.
        var extra = s_extra ??= new FlowExtraFieldsWriter();
        extra.Reset();
        if (dns)
        {
            extra.AddString("DnsFlagsResponseCode", s_rcodes.GetValueOrDefault(values.DnsFlags & 0xF, "UnDefined"));
        }

        if (drop)
        {
            extra.AddNumber("PktDropLatestFlags", values.PktDropLatestFlags);
        }

        if (record is not null)
        {
            MapOthers(record, extra);
        }

        flow.ExtraFields = extra.Build();
        flow.ExtraFieldsDropped += extra.Dropped;
    }

    private static void MapOthers(Record record, FlowExtraFieldsWriter extra)
    {
        if (record.NetworkEventsMetadata.Count > 0)
        {
            var events = new IEnumerable<KeyValuePair<string, string>>[record.NetworkEventsMetadata.Count];
            for (var i = 0; i < events.Length; i++)
            {
                events[i] = record.NetworkEventsMetadata[i].Events;
            }

            extra.AddObjects("NetworkEvents", events);
        }

        MapXlat(record.Xlat, extra);
        if (record.IpsecEncryptedRet != 0)
        {
            extra.AddNumber("IPSecRetCode", record.IpsecEncryptedRet);
            extra.AddString("IPSecStatus", "error");
        }
        else if (record.IpsecEncrypted != 0)
        {
            extra.AddNumber("IPSecRetCode", 0);
            extra.AddString("IPSecStatus", "success");
        }

        MapUdns(record, extra);
        MapTls(record, extra);
        if (record.Quic is { } quic)
        {
            extra.AddNumber("QuicVersion", quic.Version);
            extra.AddNumber("QuicSeenLongHdr", quic.SeenLongHdr);
            extra.AddNumber("QuicSeenShortHdr", quic.SeenShortHdr);
        }
    }

    /// <summary>True when the record has an extra field other than the DNS response code and the drop flags.</summary>
    private static bool HasOthers(Record r) =>
        r.NetworkEventsMetadata.Count > 0
        || r.Xlat is not null || r.IpsecEncrypted != 0 || r.IpsecEncryptedRet != 0 || r.SslVersion != 0
        || r.SslMismatch || r.TlsTypes != 0 || r.TlsCipherSuite != 0 || r.TlsKeyShare != 0 || r.Quic is not null
        || HasUdn(r);

    private static bool HasUdn(Record r)
    {
        // Indexed: RepeatedField's enumerator is an object per call.
        var dupList = r.DupList;
        for (var i = 0; i < dupList.Count; i++)
        {
            if (dupList[i].Udn.Length > 0)
            {
                return true;
            }
        }

        return false;
    }

    private static void MapXlat(Xlat? xlat, FlowExtraFieldsWriter extra)
    {
        if (xlat is null)
        {
            return;
        }

        var src = Translated(xlat.SrcAddr);
        var dst = Translated(xlat.DstAddr);
        if (src is null && dst is null)
        {
            return;
        }

        extra.AddNumber("ZoneId", xlat.ZoneId);
        if (xlat.SrcPort != 0)
        {
            extra.AddNumber("XlatSrcPort", xlat.SrcPort);
        }

        if (xlat.DstPort != 0)
        {
            extra.AddNumber("XlatDstPort", xlat.DstPort);
        }

        if (src is not null)
        {
            extra.AddString("XlatSrcAddr", src.ToString());
        }

        if (dst is not null)
        {
            extra.AddString("XlatDstAddr", dst.ToString());
        }
    }

    /// <summary>A translated address; null when absent or all zeros (the agent's "no translation").</summary>
    private static IPAddress? Translated(IP? ip)
    {
        var address = PbflowMapper.ToAddress(ip);
        return address is null || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? null : address;
    }

    private static void MapUdns(Record record, FlowExtraFieldsWriter extra)
    {
        var dupList = record.DupList;
        if (!HasUdn(record))
        {
            return;
        }

        var udns = new string[dupList.Count];
        for (var i = 0; i < udns.Length; i++)
        {
            udns[i] = dupList[i].Udn;
        }

        extra.AddStrings("Udns", udns);
    }

    private static void MapTls(Record record, FlowExtraFieldsWriter extra)
    {
        if (record.SslVersion != 0)
        {
            extra.AddString("TLSVersion", Named(s_tlsVersions, record.SslVersion));
        }

        if (record.TlsTypes != 0)
        {
            var names = new List<string>(s_tlsTypes.Length);
            foreach (var (bit, name) in s_tlsTypes)
            {
                if ((record.TlsTypes & bit) != 0)
                {
                    names.Add(name);
                }
            }

            extra.AddStrings("TLSTypes", names);
        }

        if (record.TlsCipherSuite != 0)
        {
            extra.AddString("TLSCipherSuite", Named(s_cipherSuites, record.TlsCipherSuite));
        }

        if (record.TlsKeyShare != 0)
        {
            extra.AddString("TLSGroup", Named(s_groups, record.TlsKeyShare));
        }

        if (record.SslMismatch)
        {
            extra.AddBoolean("TLSMismatch", true);
        }
    }

    private static string Named(Dictionary<uint, string> names, uint value) =>
        names.TryGetValue(value, out var name) ? name
            : string.Create(CultureInfo.InvariantCulture, $"0x{value:x4}");
}
