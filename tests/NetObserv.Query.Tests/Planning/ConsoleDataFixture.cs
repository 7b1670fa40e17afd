using System.Globalization;
using System.Net;
using NetObserv.Flows;

namespace NetObserv.Query.Tests.Planning;

/// <summary>
/// <see cref="QueryDataFixture"/>'s flows with every fourth one over IPv6 (<c>fd00::n</c> to <c>fd01::n</c>),
/// every fifth without a source address, and DNS, RTT and drop fields on some, as the console's queries read them.
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
        }

        return records;
    }
}
