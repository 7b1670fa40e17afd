using System.Diagnostics;
using System.Globalization;
using System.Net;
using NetObserv.Flows;
using NetObserv.Flows.Ipfix;
using NetObserv.Server.Loadgen;

namespace NetObserv.Benchmarks.Ipfix;

/// <summary>
/// <c>ipfix-decode [rounds] [seconds-per-round]</c>: IPFIX data messages with the loadgen's typical IPv4
/// template (14 fields, 57-byte records, 24 per message) decoded into FlowRecords on one thread pinned
/// to one core. Prints, per round and as medians, records/s by the wall clock and per CPU second
/// (the latter holds on a shared machine where the thread does not get the whole core), and bytes
/// allocated per record.
/// </summary>
internal static class IpfixDecodeBenchmark
{
    public static int Run(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        var secondsPerRound = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1.0;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            Process.GetCurrentProcess().ProcessorAffinity = 1;
        }

        var decoder = new IpfixDecoder();
        var exporter = IPAddress.Parse("192.0.2.1");
        var buffer = new byte[2048];
        var exportTime = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var records = new List<FlowRecord>(64);
        var templateLength = IpfixLoadMessages.WriteTemplate(buffer, exportTime, 0, 1);
        decoder.Decode(buffer.AsSpan(0, templateLength), exporter, records);
        var dataLength = IpfixLoadMessages.WriteData(buffer, exportTime, 0, 1, 0, IpfixLoadMessages.RecordsPerMessage,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var message = buffer.AsSpan(0, dataLength).ToArray();
        var perMessage = IpfixLoadMessages.RecordsPerMessage;

        // Warm-up (tiered JIT).
        for (var i = 0; i < 20_000; i++)
        {
            records.Clear();
            decoder.Decode(message, exporter, records);
        }

        if (records.Count != perMessage)
        {
            Console.Error.WriteLine($"ipfix-decode: expected {perMessage} records per message, got {records.Count}");
            return 1;
        }

        Console.WriteLine($"ipfix-decode: {message.Length}-byte messages, {perMessage} records of {IpfixLoadMessages.RecordLength} bytes, " +
            $"{rounds} rounds of {secondsPerRound.ToString(CultureInfo.InvariantCulture)} s, one thread on one core");
        var rates = new List<double>();
        var cpuRates = new List<double>();
        var process = Process.GetCurrentProcess();
        double allocatedPerRecord = 0;
        for (var round = 0; round < rounds; round++)
        {
            long decoded = 0;
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < secondsPerRound)
            {
                for (var i = 0; i < 1000; i++)
                {
                    records.Clear();
                    decoded += decoder.Decode(message, exporter, records).Records;
                }
            }

            var elapsed = clock.Elapsed.TotalSeconds;
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
            var cpuRate = decoded / cpu;
            cpuRates.Add(cpuRate);
            allocatedPerRecord = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)decoded;
            var rate = decoded / elapsed;
            rates.Add(rate);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round + 1}: {rate:N0} records/s wall clock, {cpuRate:N0} records per CPU second ({cpu / elapsed:P0} of the core)"));
        }

        rates.Sort();
        cpuRates.Sort();
        var median = rates[rates.Count / 2];
        var cpuMedian = cpuRates[cpuRates.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median: {median:N0} records/s wall clock; {cpuMedian:N0} records per CPU second; {allocatedPerRecord:F0} bytes allocated per record"));
        return 0;
    }
}
