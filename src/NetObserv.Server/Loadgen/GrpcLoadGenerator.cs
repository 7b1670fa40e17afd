using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using NetObserv.Flows.Pbflow;

namespace NetObserv.Server.Loadgen;

/// <summary>
/// Sends synthetic pbflow records to a collector the way the eBPF agent does (<c>Collector/Send</c>,
/// batches of records), at a fixed rate or as fast as they are acknowledged, from a few concurrent
/// senders. The traffic comes from a <see cref="SyntheticCluster"/>; a pool of messages is encoded
/// ahead and rebuilt every two seconds so timestamps stay current, so the sender spends its CPU on
/// sending rather than encoding (it shares the machine with the collector in benchmarks).
/// A <c>RESOURCE_EXHAUSTED</c> answer is counted as refused and the sender backs off (10 ms, doubling
/// up to 200 ms while refusals continue), as a loaded collector expects.
/// </summary>
internal sealed class GrpcLoadGenerator
{
    private const int PoolSize = 16;
    private static readonly Method<byte[], byte[]> s_send = new(MethodType.Unary, Collector.Descriptor.FullName,
        Collector.Descriptor.Methods[0].Name, Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
    private static readonly TimeSpan s_refusedBackoff = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_maximumRefusedBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_failedBackoff = TimeSpan.FromMilliseconds(250);

    private readonly GrpcLoadOptions _options;
    private readonly SyntheticCluster _cluster;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private (byte[] Body, int Count)[] _pool = [];
    private long _sent;
    private long _acknowledged;
    private long _refused;
    private long _failed;
    private long _sends;
    private long _slot;

    public GrpcLoadGenerator(GrpcLoadOptions options, SyntheticCluster cluster, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FlowsPerMessage, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Concurrency, 1);
        _options = options;
        _cluster = cluster;
        _time = time ?? TimeProvider.System;
        _random = new Random(options.Seed);
    }

    /// <summary>Progress of a running load: counts so far and the acknowledged rate of the last interval.</summary>
    internal readonly record struct Progress(TimeSpan Elapsed, long Sent, long Acknowledged, long Refused, long Failed,
        double AcknowledgedPerSecond);

    /// <summary>Runs for <see cref="GrpcLoadOptions.Duration"/>, reporting <paramref name="onProgress"/> once a second.</summary>
    public async Task<GrpcLoadResult> RunAsync(Action<Progress>? onProgress, CancellationToken cancellationToken)
    {
        RebuildPool();
        using var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        };
        using var channel = GrpcChannel.ForAddress(_options.Address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxSendMessageSize = null,
            MaxReceiveMessageSize = null,
        });
        var client = channel.CreateCallInvoker();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(_options.Duration);
        var started = Stopwatch.GetTimestamp();
        var latencies = new List<double>[_options.Concurrency];
        var senders = new Task[_options.Concurrency];
        for (var i = 0; i < senders.Length; i++)
        {
            latencies[i] = [];
            var mine = latencies[i];
            senders[i] = Task.Run(() => SendLoopAsync(client, started, mine, stop.Token), CancellationToken.None);
        }

        var reporter = ReportAsync(onProgress, started, stop.Token);
        await Task.WhenAll(senders).ConfigureAwait(false);
        await reporter.ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        return new GrpcLoadResult(Interlocked.Read(ref _sent), Interlocked.Read(ref _acknowledged),
            Interlocked.Read(ref _refused), Interlocked.Read(ref _failed), Interlocked.Read(ref _sends), elapsed,
            [.. latencies.SelectMany(l => l)]);
    }

    /// <summary>Builds one <c>Records</c> message of <paramref name="count"/> synthetic flows ending near now.</summary>
    public Records BuildMessage(int count)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var records = new Records();
        lock (_random)
        {
            for (var i = 0; i < count; i++)
            {
                records.Entries.Add(ToRecord(_cluster.NextFlow(_random, now), _options.Sampling));
            }
        }

        return records;
    }

    /// <summary>The agent's encoding of one synthetic flow.</summary>
    public static Record ToRecord(SyntheticCluster.Flow flow, int sampling)
    {
        var direction = flow.Direction == 1 ? Direction.Egress : Direction.Ingress;
        var record = new Record
        {
            EthProtocol = flow.IsIPv6 ? 0x86DDu : 0x0800u,
            Direction = direction,
            TimeFlowStart = FromMilliseconds(flow.StartMs),
            TimeFlowEnd = FromMilliseconds(flow.EndMs),
            DataLink = new DataLink { SrcMac = flow.SrcMac, DstMac = flow.DstMac },
            Network = new Network { SrcAddr = ToIP(flow.Src), DstAddr = ToIP(flow.Dst), Dscp = (uint)flow.Dscp },
            Transport = new Transport
            {
                SrcPort = (uint)flow.SrcPort,
                DstPort = (uint)flow.DstPort,
                Protocol = (uint)flow.Proto,
            },
            Bytes = (ulong)flow.Bytes,
            Packets = (ulong)flow.Packets,
            Interface = flow.Interface,
            AgentIp = ToIP(flow.AgentIP),
            Flags = (uint)flow.Flags,
            IcmpType = (uint)flow.IcmpType,
            IcmpCode = (uint)flow.IcmpCode,
            TimeFlowRtt = new Duration { Seconds = flow.RttNs / 1_000_000_000, Nanos = (int)(flow.RttNs % 1_000_000_000) },
            DupList = { new DupMapEntry { Interface = flow.Interface, Direction = direction } },
            Sampling = (uint)sampling,
        };
        if (flow.DnsId != 0)
        {
            record.DnsId = (uint)flow.DnsId;
            record.DnsFlags = (uint)flow.DnsFlags;
            record.DnsLatency = new Duration { Nanos = (int)(flow.DnsLatencyMs * 1_000_000) };
            record.DnsName = flow.DnsName ?? "";
        }

        if (flow.DropPackets != 0)
        {
            record.PktDropBytes = (ulong)flow.DropBytes;
            record.PktDropPackets = (ulong)flow.DropPackets;
            record.PktDropLatestState = (uint)flow.DropState;
            record.PktDropLatestDropCause = (uint)flow.DropCause;
        }

        return record;
    }

    /// <summary>The agent's <c>IP</c>: a big-endian <c>fixed32</c> for IPv4, 16 bytes for IPv6.</summary>
    public static IP ToIP(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return address.AddressFamily == AddressFamily.InterNetwork
            ? new IP { Ipv4 = BinaryPrimitives.ReadUInt32BigEndian(bytes) }
            : new IP { Ipv6 = ByteString.CopyFrom(bytes[..written]) };
    }

    private static Timestamp FromMilliseconds(long ms) =>
        new() { Seconds = ms / 1000, Nanos = (int)(ms % 1000) * 1_000_000 };

    private async Task SendLoopAsync(CallInvoker client, long started, List<double> latencies,
        CancellationToken cancellationToken)
    {
        var n = _options.FlowsPerMessage;
        var backoff = s_refusedBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            var slot = Interlocked.Increment(ref _slot) - 1;
            if (_options.Rate is { } rate)
            {
                var due = TimeSpan.FromSeconds(slot * n / rate) - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.Zero && !await DelayAsync(due, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }

            var (body, count) = Volatile.Read(ref _pool)[slot % PoolSize];
            Interlocked.Add(ref _sent, count);
            Interlocked.Increment(ref _sends);
            var begin = Stopwatch.GetTimestamp();
            try
            {
                await client.AsyncUnaryCall(s_send, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), body)
                    .ResponseAsync.ConfigureAwait(false);
                latencies.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
                Interlocked.Add(ref _acknowledged, count);
                backoff = s_refusedBackoff;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                // The collector is full: wait longer while it stays full, as a well-behaved sender does.
                Interlocked.Add(ref _refused, count);
                await DelayAsync(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maximumRefusedBackoff.Ticks));
            }
            catch (RpcException)
            {
                Interlocked.Add(ref _failed, count);
                await DelayAsync(s_failedBackoff, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ReportAsync(Action<Progress>? onProgress, long started, CancellationToken cancellationToken)
    {
        var lastAcknowledged = 0L;
        var last = TimeSpan.Zero;
        var ticks = 0;
        while (await DelayAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false))
        {
            if (++ticks % 2 == 0)
            {
                RebuildPool();
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            var acknowledged = Interlocked.Read(ref _acknowledged);
            var rate = (acknowledged - lastAcknowledged) / Math.Max((elapsed - last).TotalSeconds, 0.001);
            onProgress?.Invoke(new Progress(elapsed, Interlocked.Read(ref _sent), acknowledged,
                Interlocked.Read(ref _refused), Interlocked.Read(ref _failed), rate));
            lastAcknowledged = acknowledged;
            last = elapsed;
        }
    }

    private void RebuildPool()
    {
        var pool = new (byte[], int)[PoolSize];
        for (var i = 0; i < pool.Length; i++)
        {
            var message = BuildMessage(_options.FlowsPerMessage);
            pool[i] = (message.ToByteArray(), message.Entries.Count);
        }

        Volatile.Write(ref _pool, pool);
    }

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
