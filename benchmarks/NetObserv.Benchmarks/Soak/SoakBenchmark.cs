using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using NetObserv.Benchmarks.Ingest;
using NetObserv.Flows;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Commands;
using NetObserv.Server.Loadgen;

namespace NetObserv.Benchmarks.Soak;

/// <summary>
/// <c>soak [--duration 10m] [--rate 2000] [--backfill 300000] [--database CS]</c>: starts <c>netobserv-backend serve</c> as a
/// child process, backfills six hours of good gRPC flows and, for the duration, sends normal gRPC traffic (the load generator) and normal Loki
/// pushes from their own clients while other clients send every hostile input of the hostile-input
/// review in a loop: deep and long LogQL, poison push lines and labels, huge label sets, out-of-range
/// values, far past and future timestamps, overflowing query times, catastrophic regexes, large past-range
/// queries, a message of a million empty records and UDP garbage. At the end it prints the server's peak
/// RSS, what each hostile input was answered, and the good records acknowledged and stored (they must
/// be equal). Exit code 1 when the server died, its peak RSS passed 1.5 GB, or a good record was lost.
/// </summary>
internal static class SoakBenchmark
{
    /// <summary>The peak RSS the server must stay under.</summary>
    private const double RssLimitMiB = 1536;

    /// <summary>Every hostile gRPC record carries this agent address, so good records can be counted apart.</summary>
    private const string HostileAgent = "192.0.2.66";

    private const string GoodPushTenant = "soak-push";
    private const string HostilePushTenant = "soak-hostile";

    public static async Task<int> RunAsync(string[] args)
    {
        var duration = LoadgenArguments.Get(args, "--duration") is { } d && GrpcLoadOptions.TryParseDuration(d, out var parsed)
            ? parsed
            : TimeSpan.FromMinutes(10);
        var rate = LoadgenArguments.Get(args, "--rate") is { } r ? double.Parse(r, CultureInfo.InvariantCulture) : 2000;
        var backfill = LoadgenArguments.Get(args, "--backfill") is { } b ? int.Parse(b, CultureInfo.InvariantCulture) : 300_000;
        var (work, postgres, connectionString) = await BackendProcess.DatabaseAsync(args, "netobserv-soak-", "soak");

        var grpcPort = BackendProcess.FreePort();
        var httpPort = BackendProcess.FreePort();
        var ipfixPort = FreeUdpPort();
        using var server = BackendProcess.Start(connectionString, grpcPort, httpPort, ipfixPort,
            new Dictionary<string, string> { ["NETOBSERV__Storage__SpillDirectory"] = Path.Combine(work, "spill") });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromMinutes(2) };
            await BackendProcess.WaitReadyAsync(http, server);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak: {duration.TotalSeconds:0} s, good gRPC {rate:0} flows/s and good push 500 lines/s, hostile clients in a loop, {Environment.ProcessorCount} cores, load {LoadAverage()}"));

            // Six hours of history, so the large past-range queries have many series to answer.
            var backfilled = await BackfillAsync(grpcPort, backfill);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"backfilled {backfilled} flows over the past 6 h"));

            using var sampler = new RssSampler(server.Id);
            using var stop = new CancellationTokenSource(duration);
            var outcomes = new Outcomes();
            var pushed = new long[1];
            var grpc = new GrpcLoadGenerator(new GrpcLoadOptions
            {
                Target = "127.0.0.1:" + grpcPort.ToString(CultureInfo.InvariantCulture),
                Rate = rate,
                Duration = duration,
                FlowsPerMessage = 500,
                Concurrency = 2,
            }, SyntheticCluster.Create(7)).RunAsync(null, CancellationToken.None);
            var clients = new List<Task>
            {
                GoodPushAsync(httpPort, pushed, stop.Token),
                HostileQueriesAsync(httpPort, outcomes, stop.Token),
                HostilePushAsync(httpPort, outcomes, stop.Token),
                HostileGrpcAsync(grpcPort, outcomes, stop.Token),
                LargeQueriesAsync(httpPort, outcomes, stop.Token),
                UdpGarbageAsync(ipfixPort, outcomes, stop.Token),
                ProgressAsync(sampler, pushed, stop.Token),
                WatchAsync(server, stop),
            };
            var result = await grpc;
            await Task.WhenAll(clients);

            var goodAcknowledged = backfilled + result.Acknowledged + Interlocked.Read(ref pushed[0]);
            var goodWhere = $"(tenant = 'default' AND agent_ip IS DISTINCT FROM '{HostileAgent}') OR tenant = '{GoodPushTenant}'";
            var stored = 0L;
            var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 180);
            while (!server.HasExited && Stopwatch.GetTimestamp() < deadline)
            {
                stored = await BackendProcess.CountRowsAsync(connectionString, goodWhere);
                if (stored >= goodAcknowledged)
                {
                    break;
                }

                await Task.Delay(500);
            }

            var alive = !server.HasExited;
            var cacheBytes = alive ? await BackendProcess.MetricAsync(http, "netobserv_query_cache_bytes") : 0;
            var peak = sampler.PeakMiB;
            outcomes.Print();
            var ok = alive && peak < RssLimitMiB && stored == goodAcknowledged;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                server alive          {(alive ? "yes" : "NO (exit code " + server.ExitCode + ")")}
                server peak RSS MiB   {peak:0}   (limit {RssLimitMiB:0}: {(peak < RssLimitMiB ? "OK" : "OVER")})
                query cache MiB       {cacheBytes / 1048576.0:0}   (Query:CacheMaxBytes bounds it)
                hostile 5xx answers   {outcomes.ServerErrors}
                good gRPC acknowledged {result.Acknowledged} (and {backfilled} backfilled), refused (RESOURCE_EXHAUSTED) {result.Refused}, failed {result.Failed}
                good push lines acknowledged {Interlocked.Read(ref pushed[0])}
                good records stored {stored} == acknowledged {goodAcknowledged}: {(stored == goodAcknowledged ? "OK" : "MISMATCH")}
                machine load          {LoadAverage()}
                """));
            return ok ? 0 : 1;
        }
        finally
        {
            await BackendProcess.StopAsync(server, postgres, work);
        }
    }

    /// <summary>Sends <paramref name="count"/> good flows spread over the past 6 hours; returns how many were acknowledged.</summary>
    private static async Task<long> BackfillAsync(int grpcPort, int count)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}",
            new GrpcChannelOptions { MaxSendMessageSize = null });
        var client = new Collector.CollectorClient(channel);
        var cluster = SyntheticCluster.Create(7);
        var random = new Random(7);
        var end = DateTimeOffset.UtcNow.AddMinutes(-7).ToUnixTimeMilliseconds();
        var span = (long)TimeSpan.FromHours(6).TotalMilliseconds;
        var acknowledged = 0L;
        for (var sent = 0; sent < count;)
        {
            var message = new Records();
            for (var i = 0; i < 5_000 && sent < count; i++, sent++)
            {
                var at = end - span + (span * sent / count);
                message.Entries.Add(GrpcLoadGenerator.ToRecord(cluster.NextFlow(random, at), 1));
            }

            try
            {
                await client.SendAsync(message);
                acknowledged += message.Entries.Count;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                await Task.Delay(200);
            }
        }

        return acknowledged;
    }

    /// <summary>flowlogs-pipeline-like pushes of 50 valid lines every 100 ms; lines of a 204 answer count as acknowledged.</summary>
    private static async Task GoodPushAsync(int httpPort, long[] acknowledged, CancellationToken cancellationToken)
    {
        using var http = Client(httpPort);
        var cluster = SyntheticCluster.Create(11);
        var random = new Random(11);
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var lines = new List<string>();
            for (var i = 0; i < 50; i++)
            {
                var flow = cluster.NextFlow(random, now);
                lines.Add(FlowRecordJson.ToJson(new FlowRecord
                {
                    TimeFlowStartMs = flow.StartMs,
                    TimeFlowEndMs = flow.EndMs,
                    TimeReceived = now / 1000,
                    SrcAddr = flow.Src,
                    DstAddr = flow.Dst,
                    SrcPort = flow.SrcPort,
                    DstPort = flow.DstPort,
                    Proto = flow.Proto,
                    Bytes = flow.Bytes,
                    Packets = flow.Packets,
                    FlowDirection = flow.Direction,
                }));
            }

            var status = await SendPushAsync(http, GoodPushTenant, PushBody(now, [.. lines], ("app", "netobserv-flowcollector")), cancellationToken);
            if (status == HttpStatusCode.NoContent)
            {
                Interlocked.Add(ref acknowledged[0], lines.Count);
            }

            await Pause(100, cancellationToken);
        }
    }

    private static async Task HostileQueriesAsync(int httpPort, Outcomes outcomes, CancellationToken cancellationToken)
    {
        using var http = Client(httpPort);
        var queries = new (string Name, string Path, string Query)[]
        {
            ("query 10,000 nested parentheses", "query", new string('(', 10_000) + "vector(1)" + new string(')', 10_000)),
            ("query 20,000-term 1+1+...", "query", "1" + string.Concat(Enumerable.Repeat("+1", 20_000))),
            ("query 50,000-term or chain", "query", "vector(1)" + string.Concat(Enumerable.Repeat(" or vector(1)", 50_000))),
            ("query sum( nested 5,000 deep", "query", string.Concat(Enumerable.Repeat("sum(", 5_000)) + "vector(1)" + new string(')', 5_000)),
            ("query 50,000 unary minus", "query", new string('-', 50_000) + "1"),
            ("query catastrophic regex", "query_range", "{app=\"netobserv-flowcollector\"} |~ \"(a|aa)+$\" |~ \"((x+x+)+)+y\""),
            ("query regex too complex", "query_range", "{SrcK8S_Namespace=~\"" + string.Concat(Enumerable.Repeat("(a|b|c)*", 2_000)) + "\"}"),
        };
        var times = new (string Name, string Path, string Query)[]
        {
            ("time=9999999999", "query?time=9999999999&query=", "vector(1)"),
            ("since=99999999h", "query_range?since=99999999h&query=", "count_over_time({app=\"netobserv-flowcollector\"}[1m])"),
            ("start/end int64 extremes", "query_range?start=-9223372036854775808&end=9223372036854775807&query=",
                "count_over_time({app=\"netobserv-flowcollector\"}[1m])"),
            ("start year 9999 RFC 3339", "query_range?start=9999-12-31T23:59:59Z&end=9999-12-31T23:59:59Z&query=", "vector(1)"),
        };
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var (name, path, query) in queries)
            {
                using var form = new FormUrlEncodedContent([new("query", query)]);
                await Record(outcomes, name, () => http.PostAsync(new Uri("/loki/api/v1/" + path, UriKind.Relative), form, cancellationToken));
                await Pause(200, cancellationToken);
            }

            foreach (var (name, path, query) in times)
            {
                await Record(outcomes, name, () => http.GetAsync(
                    new Uri("/loki/api/v1/" + path + Uri.EscapeDataString(query), UriKind.Relative), cancellationToken));
                await Pause(200, cancellationToken);
            }
        }
    }

    private static async Task HostilePushAsync(int httpPort, Outcomes outcomes, CancellationToken cancellationToken)
    {
        using var http = Client(httpPort);
        var now = () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string Line(long endMs, string extra) =>
            $$"""{"TimeFlowStartMs":{{endMs - 1000}},"TimeFlowEndMs":{{endMs}},"SrcAddr":"10.1.2.3","DstAddr":"10.3.2.1","SrcPort":1234,"DstPort":80,"Proto":6,"Bytes":100,"Packets":1{{extra}}}""";
        var manyLabels = Enumerable.Range(0, 40_000).Select(i => ("l" + i.ToString(CultureInfo.InvariantCulture), "v")).ToArray();
        while (!cancellationToken.IsCancellationRequested)
        {
            var t = now();
            var bodies = new (string Name, string Body)[]
            {
                ("push 3 KB SrcK8S_Namespace", PushBody(t, [Line(t, ",\"SrcK8S_Namespace\":\"" + new string('n', 3_000) + "\"")], ("app", "netobserv-flowcollector"))),
                ("push 1 MB SrcK8S_OwnerName label", PushBody(t, [Line(t, "")], ("app", "netobserv-flowcollector"), ("SrcK8S_OwnerName", new string('o', 1 << 20)))),
                ("push 40,000 labels", PushBody(t, [Line(t, "")], manyLabels)),
                ("push negative Bytes", PushBody(t, [Line(t, "").Replace("\"Bytes\":100", "\"Bytes\":-5", StringComparison.Ordinal)], ("app", "x"))),
                ("push port 70000, protocol 300, direction 99", PushBody(t, [Line(t, ",\"FlowDirection\":99").Replace("\"SrcPort\":1234", "\"SrcPort\":70000", StringComparison.Ordinal).Replace("\"Proto\":6", "\"Proto\":300", StringComparison.Ordinal)], ("app", "x"))),
                ("push year 1900", PushBody(t, [Line(-2_208_988_800_000, "")], ("app", "x"))),
                ("push year 9999", PushBody(t, [Line(253_402_300_799_000, "")], ("app", "x"))),
                ("push bytes 2^64-1", PushBody(t, [Line(t, "").Replace("\"Bytes\":100", "\"Bytes\":18446744073709551615", StringComparison.Ordinal)], ("app", "x"))),
            };
            foreach (var (name, body) in bodies)
            {
                await Record(outcomes, name, async () =>
                {
                    using var content = new StringContent(body, Encoding.UTF8, "application/json");
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/loki/api/v1/push") { Content = content };
                    request.Headers.Add("X-Scope-OrgID", HostilePushTenant);
                    return await http.SendAsync(request, cancellationToken);
                });
                await Pause(200, cancellationToken);
            }
        }
    }

    private static async Task HostileGrpcAsync(int grpcPort, Outcomes outcomes, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}",
            new GrpcChannelOptions { MaxSendMessageSize = null });
        var client = new Collector.CollectorClient(channel);
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "pbflow.Collector", "Send",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        // 1,000,000 empty records: field 1, length 0, a million times (2 MB).
        var emptyRecords = new byte[2_000_000];
        for (var i = 0; i < emptyRecords.Length; i += 2)
        {
            emptyRecords[i] = 0x0A;
        }

        var cluster = SyntheticCluster.Create(13);
        var random = new Random(13);
        Record Hostile(Action<Record> change)
        {
            var record = GrpcLoadGenerator.ToRecord(cluster.NextFlow(random, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), 1);
            record.AgentIp = GrpcLoadGenerator.ToIP(IPAddress.Parse(HostileAgent));
            change(record);
            return record;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            await RecordGrpc(outcomes, "gRPC 1,000,000 empty records", () => channel.CreateCallInvoker()
                .AsyncUnaryCall(raw, null, new CallOptions(cancellationToken: cancellationToken), emptyRecords).ResponseAsync);
            await Pause(200, cancellationToken);

            var days = new Records();
            var today = DateTimeOffset.UtcNow;
            for (var day = 0; day < 2_000; day++)
            {
                var end = Timestamp.FromDateTimeOffset(today.AddDays(-day));
                days.Entries.Add(Hostile(r => (r.TimeFlowStart, r.TimeFlowEnd) = (end, end)));
            }

            var values = new Records();
            values.Entries.Add(Hostile(r => r.Bytes = ulong.MaxValue));
            values.Entries.Add(Hostile(r => r.Transport.SrcPort = 70_000));
            values.Entries.Add(Hostile(r => r.Transport.Protocol = 300));
            values.Entries.Add(Hostile(r => r.Direction = (Direction)99));
            values.Entries.Add(Hostile(r => r.TimeFlowEnd = r.TimeFlowStart = Timestamp.FromDateTimeOffset(new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero))));
            values.Entries.Add(Hostile(r => r.TimeFlowEnd = r.TimeFlowStart = Timestamp.FromDateTimeOffset(new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero))));
            values.Entries.Add(Hostile(r => r.Interface = new string('i', 100_000)));
            foreach (var (name, message) in new[] { ("gRPC 2,000 distinct days", days), ("gRPC out-of-range values", values) })
            {
                await RecordGrpc(outcomes, name, () => client.SendAsync(message, cancellationToken: cancellationToken).ResponseAsync);
                await Pause(200, cancellationToken);
            }
        }
    }

    /// <summary>Past-range queries with a 2 s step and many series, each range distinct so each is a new cache entry.</summary>
    private static async Task LargeQueriesAsync(int httpPort, Outcomes outcomes, CancellationToken cancellationToken)
    {
        using var http = Client(httpPort);
        const string Query = "sum by (SrcK8S_Namespace, SrcK8S_OwnerName, DstK8S_Namespace, DstK8S_OwnerName) (rate({app=\"netobserv-flowcollector\"}[1m]))";
        var shift = 0;
        await Pause(30_000, cancellationToken); // some data first
        while (!cancellationToken.IsCancellationRequested)
        {
            var end = DateTimeOffset.UtcNow.AddMinutes(-6).AddSeconds(-shift++);
            var start = end.AddHours(-6);
            var uri = string.Create(CultureInfo.InvariantCulture,
                $"/loki/api/v1/query_range?query={Uri.EscapeDataString(Query)}&start={start.ToUnixTimeMilliseconds() * 1_000_000}&end={end.ToUnixTimeMilliseconds() * 1_000_000}&step=2s");
            await Record(outcomes, "query_range past 6 h, step 2 s, many series", () => http.GetAsync(new Uri(uri, UriKind.Relative), cancellationToken));
            await Pause(500, cancellationToken);
        }
    }

    private static async Task UdpGarbageAsync(int ipfixPort, Outcomes outcomes, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var target = new IPEndPoint(IPAddress.Loopback, ipfixPort);
        var random = new Random(17);
        var packet = new byte[1400];
        while (!cancellationToken.IsCancellationRequested)
        {
            random.NextBytes(packet);
            if (random.Next(2) == 0)
            {
                // A plausible IPFIX header (version 10, length) over random sets.
                packet[0] = 0;
                packet[1] = 10;
                packet[2] = (byte)(packet.Length >> 8);
                packet[3] = (byte)packet.Length;
            }

            await socket.SendToAsync(packet, target, cancellationToken).AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
            outcomes.Add("IPFIX random datagrams", "sent");
            await Pause(20, cancellationToken);
        }
    }

    private static async Task ProgressAsync(RssSampler sampler, long[] pushed, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            await Pause(30_000, cancellationToken);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Stopwatch.GetElapsedTime(started).TotalSeconds,5:0}s  rss {sampler.CurrentMiB,5:0} MiB (peak {sampler.PeakMiB:0})  good push lines {Interlocked.Read(ref pushed[0])}  load {LoadAverage()}"));
        }
    }

    /// <summary>Ends the hostile and push clients early when the server has died.</summary>
    private static async Task WatchAsync(Process server, CancellationTokenSource stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (server.HasExited)
            {
                await stop.CancelAsync();
                return;
            }

            await Pause(1000, stop.Token);
        }
    }

    private static string PushBody(long endMs, string[] lines, params (string Name, string Value)[] labels)
    {
        var text = new StringBuilder("{\"streams\":[{\"stream\":{");
        for (var i = 0; i < labels.Length; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(Json(labels[i].Name)).Append(':').Append(Json(labels[i].Value));
        }

        text.Append("},\"values\":[");
        for (var i = 0; i < lines.Length; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"[\"{endMs * 1_000_000}\",").Append(Json(lines[i])).Append(']');
        }

        return text.Append("]}]}").ToString();
    }

    private static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private static async Task<HttpStatusCode?> SendPushAsync(HttpClient http, string tenant, string body, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/loki/api/v1/push") { Content = content };
            request.Headers.Add("X-Scope-OrgID", tenant);
            using var response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Runs one hostile request and records its answer: the HTTP status, the gRPC status, or the exception.</summary>
    private static async Task Record(Outcomes outcomes, string name, Func<Task<HttpResponseMessage>> send)
    {
        try
        {
            using var response = await send();
            outcomes.Add(name, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
        }
        catch (OperationCanceledException)
        {
        }
        catch (HttpRequestException e)
        {
            outcomes.Add(name, "connection error: " + e.HttpRequestError);
        }
    }

    /// <summary>Runs one hostile gRPC call and records its status.</summary>
    private static async Task RecordGrpc(Outcomes outcomes, string name, Func<Task> send)
    {
        try
        {
            await send();
            outcomes.Add(name, nameof(StatusCode.OK));
        }
        catch (RpcException e)
        {
            outcomes.Add(name, e.StatusCode.ToString());
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task Pause(int milliseconds, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static HttpClient Client(int httpPort) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromMinutes(2) };

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>Answers per hostile input: status (HTTP code or gRPC status) and count.</summary>
    private sealed class Outcomes
    {
        private readonly ConcurrentDictionary<(string Name, string Status), long> _counts = new();

        public long ServerErrors => _counts.Where(c => c.Key.Status.Length == 3 && c.Key.Status[0] == '5').Sum(c => c.Value);

        public void Add(string name, string status) => _counts.AddOrUpdate((name, status), 1, (_, n) => n + 1);

        public void Print()
        {
            Console.WriteLine("hostile input                                      answers");
            foreach (var group in _counts.GroupBy(c => c.Key.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {group.Key,-48} {string.Join(", ", group.OrderBy(c => c.Key.Status, StringComparer.Ordinal).Select(c => $"{c.Key.Status} x{c.Value}"))}"));
            }
        }
    }
}
