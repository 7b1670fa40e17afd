using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Enrichment;

/// <summary>
/// A Kubernetes API server on 127.0.0.1 that speaks the list/watch protocol for a few collection
/// paths (<c>/api/v1/pods</c>, ...): a GET answers the current list with a resourceVersion; a GET
/// with <c>watch=true</c> answers a chunked stream of <c>{"type":...,"object":...}</c> lines that the
/// test feeds, and can be made to answer HTTP 410 Gone or an ERROR event with a 410 Status.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    public const string Pods = "/api/v1/pods";
    public const string Services = "/api/v1/services";
    public const string Nodes = "/api/v1/nodes";
    public const string ReplicaSets = "/apis/apps/v1/replicasets";
    public const string Jobs = "/apis/batch/v1/jobs";

    /// <summary>The bearer token the kubeconfig carries; requests without it are answered 401.</summary>
    public const string Token = "fake-service-account-token";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentDictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _resourceVersion = 1000;

    public FakeKubernetesApi()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        foreach (var path in (string[])[Pods, Services, Nodes, ReplicaSets, Jobs])
        {
            _collections[path] = new Collection(path);
        }

        _loop = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Writes a kubeconfig pointing at this server with a bearer token; returns its path.</summary>
    public string WriteKubeconfig(string directory) => WriteKubeconfig(Path.Combine(directory, "kubeconfig"), Port, Token);

    /// <summary>Writes to <paramref name="path"/> a kubeconfig for http://127.0.0.1:<paramref name="port"/> with a bearer token.</summary>
    public static string WriteKubeconfig(string path, int port, string token)
    {
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster:
                  server: http://127.0.0.1:{port}
            contexts:
              - name: fake
                context:
                  cluster: fake
                  user: fake
            current-context: fake
            users:
              - name: fake
                user:
                  token: {token}
            """);
        return path;
    }

    /// <summary>Replaces what a list of <paramref name="path"/> returns (no watch event is sent).</summary>
    public void SetItems(string path, params JsonObject[] items)
    {
        var collection = _collections[path];
        lock (collection)
        {
            collection.Items = [.. items.Select(i => i.ToJsonString())];
        }
    }

    public int ListCount(string path) => Volatile.Read(ref _collections[path].ListCount);

    public int WatchCount(string path) => Volatile.Read(ref _collections[path].WatchCount);

    /// <summary>The <c>resourceVersion</c> query parameter of the last watch request.</summary>
    public string? LastWatchVersion(string path) => Volatile.Read(ref _collections[path].LastWatchVersion);

    /// <summary>Sends a watch event (<c>ADDED</c>, <c>MODIFIED</c>, <c>DELETED</c>, <c>BOOKMARK</c>) with a new resourceVersion.</summary>
    public string Send(string path, string type, JsonObject item)
    {
        var version = NextVersion();
        var copy = item.DeepClone().AsObject();
        ((JsonObject)copy["metadata"]!)["resourceVersion"] = version;
        var line = new JsonObject { ["type"] = type, ["object"] = copy }.ToJsonString();
        _collections[path].Events.Writer.TryWrite(line);
        return version;
    }

    /// <summary>Sends a BOOKMARK carrying only a resourceVersion; returns that version.</summary>
    public string SendBookmark(string path, string kind, string apiVersion)
    {
        var version = NextVersion();
        var bookmark = new JsonObject
        {
            ["kind"] = kind,
            ["apiVersion"] = apiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = version },
        };
        _collections[path].Events.Writer.TryWrite(
            new JsonObject { ["type"] = "BOOKMARK", ["object"] = bookmark }.ToJsonString());
        return version;
    }

    /// <summary>Sends the ERROR event an API server sends when the watched version is too old, then ends the stream.</summary>
    public void SendGone(string path)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = "too old resource version: 1 (2000)",
            ["reason"] = "Expired",
            ["code"] = 410,
        };
        var events = _collections[path].Events.Writer;
        events.TryWrite(new JsonObject { ["type"] = "ERROR", ["object"] = status }.ToJsonString());
        events.TryWrite(null);
    }

    /// <summary>Ends the current watch stream normally (as a server-side timeout does).</summary>
    public void EndWatch(string path) => _collections[path].Events.Writer.TryWrite(null);

    /// <summary>Every request for <paramref name="path"/> is answered 403 Forbidden (no RBAC for that kind).</summary>
    public void Forbid(string path) => Volatile.Write(ref _collections[path].Forbidden, true);

    /// <summary>The next watch request of <paramref name="path"/> is answered with HTTP 410 Gone.</summary>
    public void AnswerNextWatchWithGone(string path) => Volatile.Write(ref _collections[path].NextWatchGone, true);

    private string NextVersion() => Interlocked.Increment(ref _resourceVersion).ToString(CultureInfo.InvariantCulture);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeConnectionAsync(client));
        }
    }

    /// <summary>HTTP/1.1 with keep-alive: one request after the other on a connection.</summary>
    private async Task ServeConnectionAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII, false, 4096, leaveOpen: true);
                while (!_stop.IsCancellationRequested)
                {
                    var requestLine = await reader.ReadLineAsync(_stop.Token);
                    if (string.IsNullOrEmpty(requestLine))
                    {
                        return;
                    }

                    var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    string? header;
                    while (!string.IsNullOrEmpty(header = await reader.ReadLineAsync(_stop.Token)))
                    {
                        var colon = header.IndexOf(':', StringComparison.Ordinal);
                        headers[header[..colon].Trim()] = header[(colon + 1)..].Trim();
                    }

                    var target = new Uri("http://127.0.0.1" + requestLine.Split(' ')[1]);
                    if (!await HandleAsync(stream, target, headers))
                    {
                        return;
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException
                or ObjectDisposedException)
            {
                // The client went away, or the server stops.
            }
        }
    }

    /// <summary>Answers one request; false when the connection must close.</summary>
    private async Task<bool> HandleAsync(NetworkStream stream, Uri target, Dictionary<string, string> headers)
    {
        if (!headers.TryGetValue("Authorization", out var authorization) || authorization != "Bearer " + Token)
        {
            await WriteStatusAsync(stream, HttpStatusCode.Unauthorized, "Unauthorized", "Unauthorized");
            return true;
        }

        if (!_collections.TryGetValue(target.AbsolutePath, out var collection))
        {
            await WriteStatusAsync(stream, HttpStatusCode.NotFound, "NotFound", $"no such path {target.AbsolutePath}");
            return true;
        }

        if (Volatile.Read(ref collection.Forbidden))
        {
            Interlocked.Increment(ref collection.ListCount);
            await WriteStatusAsync(stream, HttpStatusCode.Forbidden, "Forbidden",
                $"cannot list resource at the cluster scope ({target.AbsolutePath})");
            return true;
        }

        var query = System.Web.HttpUtility.ParseQueryString(target.Query);
        if (query["watch"] is "true" or "1")
        {
            return await WatchAsync(stream, query, collection);
        }

        await ListAsync(stream, collection);
        return true;
    }

    private async Task ListAsync(NetworkStream stream, Collection collection)
    {
        string[] items;
        lock (collection)
        {
            items = collection.Items;
        }

        var kind = collection.Path switch
        {
            Pods => ("PodList", "v1"),
            Services => ("ServiceList", "v1"),
            Nodes => ("NodeList", "v1"),
            ReplicaSets => ("ReplicaSetList", "apps/v1"),
            _ => ("JobList", "batch/v1"),
        };
        var body = "{\"kind\":\"" + kind.Item1 + "\",\"apiVersion\":\"" + kind.Item2
            + "\",\"metadata\":{\"resourceVersion\":\"" + NextVersion() + "\"},\"items\":["
            + string.Join(',', items) + "]}";
        Interlocked.Increment(ref collection.ListCount);
        await WriteJsonAsync(stream, HttpStatusCode.OK, body);
    }

    private async Task<bool> WatchAsync(NetworkStream stream, System.Collections.Specialized.NameValueCollection query,
        Collection collection)
    {
        Volatile.Write(ref collection.LastWatchVersion, query["resourceVersion"]);
        Interlocked.Increment(ref collection.WatchCount);
        if (Interlocked.Exchange(ref collection.NextWatchGone, false))
        {
            await WriteStatusAsync(stream, HttpStatusCode.Gone, "Expired", "too old resource version");
            return true;
        }

        // Headers go out at once, as an API server sends them; then one chunk per event line.
        await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n");

        // Like an API server, end the stream after timeoutSeconds.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        if (int.TryParse(query["timeoutSeconds"], CultureInfo.InvariantCulture, out var seconds))
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        while (true)
        {
            string? line;
            try
            {
                line = await collection.Events.Reader.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                line = null;
            }

            if (line is null)
            {
                await WriteAsync(stream, "0\r\n\r\n");
                return true;
            }

            var data = Encoding.UTF8.GetBytes(line + "\n");
            await WriteAsync(stream, data.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n");
            await stream.WriteAsync(data, _stop.Token);
            await WriteAsync(stream, "\r\n");
        }
    }

    private Task WriteAsync(NetworkStream stream, string text) =>
        stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token).AsTask();

    private Task WriteStatusAsync(NetworkStream stream, HttpStatusCode code, string reason, string message) =>
        WriteJsonAsync(stream, code, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = (int)code,
        }.ToJsonString());

    private async Task WriteJsonAsync(NetworkStream stream, HttpStatusCode code, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        await WriteAsync(stream, $"HTTP/1.1 {(int)code} {code}\r\nContent-Type: application/json\r\n"
            + $"Content-Length: {bytes.Length}\r\n\r\n");
        await stream.WriteAsync(bytes, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var collection in _collections.Values)
        {
            collection.Events.Writer.TryComplete();
        }

        _listener.Stop();
        await _loop.WaitAsync(Timeouts.Default);

        _stop.Dispose();
    }

    private sealed class Collection(string path)
    {
        public string Path { get; } = path;
        public string[] Items = [];
        public int ListCount;
        public int WatchCount;
        public string? LastWatchVersion;
        public bool NextWatchGone;
        public bool Forbidden;
        public Channel<string?> Events { get; } = Channel.CreateUnbounded<string?>();
    }
}
