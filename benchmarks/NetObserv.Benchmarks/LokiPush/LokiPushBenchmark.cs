using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetObserv.Flows;
using NetObserv.Flows.LokiPush;
using Snappier;

namespace NetObserv.Benchmarks.LokiPush;

/// <summary>
/// <c>loki-push [lines] [runs]</c>: decodes one push request of flowlogs-pipeline lines (label fields in the
/// stream labels, one stream per record as FLP's per-flow label sets give) and reads it into flow records,
/// as the endpoint does after reading the body. Prints the median time per request, lines per second and
/// allocated bytes per line, for the protobuf+snappy body FLP sends and for the JSON body.
/// </summary>
internal static class LokiPushBenchmark
{
    private static readonly string[] s_labelFields =
    [
        "SrcK8S_Namespace", "SrcK8S_OwnerName", "SrcK8S_Type", "DstK8S_Namespace", "DstK8S_OwnerName",
        "DstK8S_Type", "K8S_FlowLayer", "FlowDirection",
    ];

    public static int Run(string[] args)
    {
        var lines = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        var streams = Streams(lines);
        var protobuf = Snappy.CompressToArray(Protobuf(streams));
        var json = Json(streams);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loki-push: {lines} lines per request, {runs} runs; protobuf+snappy body {protobuf.Length} bytes, JSON body {json.Length} bytes"));

        Measure("protobuf+snappy", lines, runs, () => ReadProtobuf(protobuf));
        Measure("json", lines, runs, () => ReadJson(json));
        return 0;
    }

    private static int ReadProtobuf(byte[] body)
    {
        LokiPushProtobufDecoder.TryDecompress(body, int.MaxValue, out var buffer, out var length, out _);
        try
        {
            var request = new LokiPushRequest();
            LokiPushProtobufDecoder.TryDecode(buffer.AsMemory(0, length), request, out _);
            var batch = new LokiPushBatch();
            LokiPushFlowReader.Read(request, FlowRecord.DefaultTenant, 256 * 1024, batch);
            return batch.Records.Count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer!);
        }
    }

    private static int ReadJson(byte[] body)
    {
        var request = new LokiPushRequest();
        LokiPushJsonDecoder.TryDecode(body, request, out _);
        var batch = new LokiPushBatch();
        LokiPushFlowReader.Read(request, FlowRecord.DefaultTenant, 256 * 1024, batch);
        return batch.Records.Count;
    }

    private static void Measure(string name, int lines, int runs, Func<int> read)
    {
        if (read() != lines)
        {
            throw new InvalidOperationException($"{name}: not every line was read");
        }

        var times = new double[runs];
        long allocated = 0;
        for (var i = 0; i < runs; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            read();
            times[i] = watch.Elapsed.TotalMilliseconds;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Array.Sort(times);
        var median = times[runs / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: median {median:F1} ms per request, {lines / median * 1000:F0} lines/s, p95 {times[(int)(runs * 0.95)]:F1} ms, {allocated / runs / lines} bytes allocated per line"));
    }

    private static List<(string Labels, Dictionary<string, string> LabelMap, long Ns, string Line)> Streams(int count)
    {
        var now = 1_764_000_000_000L;
        string[] namespaces = ["shop", "data", "openshift-dns", "monitoring", "payments"];
        var result = new List<(string, Dictionary<string, string>, long, string)>(count);
        for (var i = 0; i < count; i++)
        {
            var record = new FlowRecord
            {
                TimeFlowStartMs = now - 5_000 + i,
                TimeFlowEndMs = now + i,
                TimeReceived = (now / 1000) + 1,
                Etype = 2048,
                SrcAddr = new IPAddress(0x0A800000u + (uint)i),
                DstAddr = new IPAddress(0xAC1E0000u + (uint)(i % 5000)),
                SrcMac = 0x0A5800000000UL + (ulong)i,
                DstMac = 0x0A5800FF0000UL,
                Proto = 6,
                SrcPort = 30_000 + (i % 30_000),
                DstPort = 8080,
                Flags = 2 | 16,
                Dscp = 0,
                Bytes = 1_000 + i,
                Packets = 5,
                Sampling = 50,
                FlowDirection = i % 3,
                Interfaces = ["eth0", "genev_sys_6081"],
                IfDirections = [1, 0],
                AgentIP = IPAddress.Parse("192.168.1.10"),
                TimeFlowRttNs = 120_000,
                Src = new KubernetesMetadata
                {
                    Name = $"web-{i % 50}",
                    Type = "Pod",
                    Namespace = namespaces[i % 5],
                    OwnerName = $"web-{i % 10}",
                    OwnerType = "Deployment",
                    HostIP = IPAddress.Parse("192.168.1.10"),
                    HostName = "node-a",
                },
                Dst = new KubernetesMetadata
                {
                    Name = $"db-{i % 7}",
                    Type = "Pod",
                    Namespace = namespaces[(i + 1) % 5],
                    OwnerName = $"db-{i % 7}",
                    OwnerType = "StatefulSet",
                    HostIP = IPAddress.Parse("192.168.1.11"),
                    HostName = "node-b",
                },
                K8SFlowLayer = "app",
            };
            var line = JsonNode.Parse(FlowRecordJson.ToJson(record))!.AsObject();
            var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["app"] = "netobserv-flowcollector" };
            foreach (var field in s_labelFields)
            {
                if (line.Remove(field, out var node) && node is not null)
                {
                    labels[field] = node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();
                }
            }

            var text = new StringBuilder("{");
            foreach (var (k, v) in labels)
            {
                text.Append(text.Length > 1 ? ", " : "").Append(k).Append("=\"").Append(v).Append('"');
            }

            result.Add((text.Append('}').ToString(), labels, record.TimeFlowEndMs * 1_000_000, line.ToJsonString()));
        }

        return result;
    }

    private static byte[] Protobuf(List<(string Labels, Dictionary<string, string> LabelMap, long Ns, string Line)> streams)
    {
        var request = new List<byte>();
        foreach (var (labels, _, ns, line) in streams)
        {
            var timestamp = new List<byte>();
            Tag(timestamp, 1, 0);
            Varint(timestamp, (ulong)(ns / 1_000_000_000));
            Tag(timestamp, 2, 0);
            Varint(timestamp, (ulong)(ns % 1_000_000_000));
            var entry = new List<byte>();
            Bytes(entry, 1, [.. timestamp]);
            Bytes(entry, 2, Encoding.UTF8.GetBytes(line));
            var stream = new List<byte>();
            Bytes(stream, 1, Encoding.UTF8.GetBytes(labels));
            Bytes(stream, 2, [.. entry]);
            Bytes(request, 1, [.. stream]);
        }

        return [.. request];
    }

    private static byte[] Json(List<(string Labels, Dictionary<string, string> LabelMap, long Ns, string Line)> streams)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("streams");
            foreach (var (_, labels, ns, line) in streams)
            {
                w.WriteStartObject();
                w.WriteStartObject("stream");
                foreach (var (k, v) in labels)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
                w.WriteStartArray("values");
                w.WriteStartArray();
                w.WriteStringValue(ns.ToString(CultureInfo.InvariantCulture));
                w.WriteStringValue(line);
                w.WriteEndArray();
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void Tag(List<byte> into, int field, int wire) => Varint(into, (ulong)((field << 3) | wire));

    private static void Varint(List<byte> into, ulong value)
    {
        while (value >= 0x80)
        {
            into.Add((byte)(value | 0x80));
            value >>= 7;
        }

        into.Add((byte)value);
    }

    private static void Bytes(List<byte> into, int field, byte[] bytes)
    {
        Tag(into, field, 2);
        Varint(into, (ulong)bytes.Length);
        into.AddRange(bytes);
    }
}
