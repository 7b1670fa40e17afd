using System.Globalization;
using System.Net;
using NetObserv.Flows;

namespace NetObserv.Query.Tests.Planning;

/// <summary>
/// <see cref="QueryDataFixture"/>'s flows with every fourth one over IPv6 (<c>fd00::n</c> to <c>fd01::n</c>),
/// every fifth without a source address, some ending exactly on minute and 10-minute boundaries, and DNS, RTT
/// and drop fields on some, as the console's queries read them.
/// </summary>
public sealed class ConsoleDataFixture : QueryDataFixture
{
    public ConsoleDataFixture()
        : base(Build())
    {
    }

    private static List<FlowRecord> Build()
    {
        var records = TestFlows.Generate(1_500, seed: 11);
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            if (i % 4 == 0)
            {
                r.SrcAddr = IPAddress.Parse("fd00::" + (i % 250).ToString("x", CultureInfo.InvariantCulture));
                r.DstAddr = IPAddress.Parse("fd01::" + (i % 97).ToString("x", CultureInfo.InvariantCulture));
            }
            else if (i % 5 == 0)
            {
                r.SrcAddr = null;
            }

            if (i % 25 == 7)
            {
                // On a bucket boundary (whole minutes; every fifth one a whole 5 and 10 minutes).
                r.TimeFlowEndMs = TestFlows.OriginMs + ((i % 150 < 30 ? i % 3 * 10 : i % 30) * 60_000L);
                r.TimeFlowStartMs = r.TimeFlowEndMs - 500;
            }

            if (i % 3 == 0)
            {
                r.TimeFlowRttNs = 50_000 + (((long)i * 7919) % 20_000_000);
            }

            if (i % 4 == 1)
            {
                r.DnsLatencyMs = i % 20 == 1 ? 0 : (i * 31) % 250;
            }

            if (i % 7 == 2)
            {
                r.PktDropPackets = 1 + (i % 9);
            }
        }

        return records;
    }
}
