using System.Collections.Concurrent;
using Grpc.Net.Client;
using NetObserv.Query.Grpc.V1;

namespace NetObserv.GrafanaPlugin.Backend;

/// <summary>
/// One gRPC channel per backend address, kept for the life of the process (a channel holds its HTTP/2
/// connection). At most <see cref="MaxChannels"/> addresses are kept; past that the oldest are closed.
/// </summary>
internal sealed class BackendClients : IDisposable
{
    public const int MaxChannels = 32;

    /// <summary>Largest answer accepted from the backend (its Query:MaxResponseBytes defaults to 64 MiB).</summary>
    public const int MaxReceiveMessageSize = 128 * 1024 * 1024;

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public QueryService.QueryServiceClient Query(DataSourceSettings settings) => new(Channel(settings.Url));

    public GrpcChannel Channel(Uri url)
    {
        var key = url.GetLeftPart(UriPartial.Authority);
        if (_channels.TryGetValue(key, out var channel))
        {
            return channel;
        }

        lock (_lock)
        {
            if (_channels.TryGetValue(key, out channel))
            {
                return channel;
            }

            if (_channels.Count >= MaxChannels)
            {
                foreach (var old in _channels)
                {
                    _channels.TryRemove(old.Key, out _);
                    old.Value.Dispose();
                }
            }

            channel = GrpcChannel.ForAddress(key, new GrpcChannelOptions
            {
                MaxReceiveMessageSize = MaxReceiveMessageSize,
                HttpHandler = new SocketsHttpHandler
                {
                    ConnectTimeout = TimeSpan.FromSeconds(5),
                    EnableMultipleHttp2Connections = true,
                    KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                    KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
                },
            });
            _channels[key] = channel;
            return channel;
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
