using System.Net;
using BenchmarkDotNet.Attributes;
using NetObserv.Flows;
using NetObserv.Flows.Ipfix;
using NetObserv.Server.Loadgen;

namespace NetObserv.Benchmarks.Ipfix;

/// <summary>
/// Micro benchmark of one IPFIX data message (24 records of the loadgen's IPv4 template) decoded into
/// FlowRecords. Allocation budget: 696 bytes per record (measured by <c>ipfix-decode</c>): the FlowRecord,
/// its two KubernetesMetadata, the two addresses and the interface arrays.
/// </summary>
[MemoryDiagnoser]
public class IpfixDecodeBenchmarks
{
    private readonly IPAddress _exporter = IPAddress.Parse("192.0.2.1");
    private readonly List<FlowRecord> _records = new(64);
    private IpfixDecoder _decoder = null!;
    private byte[] _message = [];

    [GlobalSetup]
    public void Setup()
    {
        _decoder = new IpfixDecoder();
        var buffer = new byte[2048];
        var exportTime = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var templateLength = IpfixLoadMessages.WriteTemplate(buffer, exportTime, 0, 1);
        _decoder.Decode(buffer.AsSpan(0, templateLength), _exporter, _records);
        var length = IpfixLoadMessages.WriteData(buffer, exportTime, 0, 1, 0, IpfixLoadMessages.RecordsPerMessage,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _message = buffer.AsSpan(0, length).ToArray();
    }

    [Benchmark(OperationsPerInvoke = IpfixLoadMessages.RecordsPerMessage)]
    public int DecodeMessage()
    {
        _records.Clear();
        return _decoder.Decode(_message, _exporter, _records).Records;
    }
}
