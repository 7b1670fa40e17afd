using System.Net;

namespace NetObserv.Flows.Ipfix;

/// <summary>
/// Templates and options state per (exporter address, observation domain or source id, version),
/// with a lifetime per template and bounds on exporters and templates. Not thread-safe: one decode
/// loop owns it.
/// </summary>
internal sealed class IpfixTemplateCache
{
    private readonly Dictionary<(IPAddress Exporter, uint Domain, int Version), IpfixSession> _sessions = [];
    private readonly IpfixDecoderOptions _options;
    private readonly long _lifetimeMs;

    public IpfixTemplateCache(IpfixDecoderOptions options)
    {
        _options = options;
        _lifetimeMs = (long)options.TemplateLifetime.TotalMilliseconds;
    }

    public int Count => _sessions.Count;

    /// <summary>
    /// The session for an exporter and domain. When the cache is full, idle sessions go first, then the
    /// least recently seen eighth, so a flood of made-up domains cannot lock real exporters out.
    /// </summary>
    public IpfixSession GetOrAdd(IPAddress exporter, uint domain, int version, long nowMs)
    {
        var key = (exporter, domain, version);
        if (_sessions.TryGetValue(key, out var session))
        {
            session.LastSeenMs = nowMs;
            return session;
        }

        if (_sessions.Count >= _options.MaxExporters)
        {
            EvictIdle(nowMs);
            if (_sessions.Count >= _options.MaxExporters)
            {
                EvictLeastRecentlySeen(Math.Max(1, _sessions.Count / 8));
            }
        }

        session = new IpfixSession(exporter) { LastSeenMs = nowMs };
        _sessions.Add(key, session);
        return session;
    }

    /// <summary>Keeps (or refreshes) a template; false when the session already holds too many.</summary>
    public bool Store(IpfixSession session, IpfixTemplate template, long nowMs)
    {
        if (session.Templates.Count >= _options.MaxTemplatesPerExporter && !session.Templates.ContainsKey(template.Id))
        {
            RemoveExpired(session, nowMs);
            if (session.Templates.Count >= _options.MaxTemplatesPerExporter)
            {
                return false;
            }
        }

        template.ExpiresAtMs = nowMs + _lifetimeMs;
        session.Templates[template.Id] = template;
        return true;
    }

    /// <summary>The live template with this id, or null (an expired one is forgotten).</summary>
    public static IpfixTemplate? Find(IpfixSession session, ushort id, long nowMs)
    {
        if (!session.Templates.TryGetValue(id, out var template))
        {
            return null;
        }

        if (template.ExpiresAtMs <= nowMs)
        {
            session.Templates.Remove(id);
            return null;
        }

        return template;
    }

    /// <summary>Template withdrawal (IPFIX): one id, or every template of the kind when <paramref name="id"/> is the set id.</summary>
    public static void Withdraw(IpfixSession session, ushort id, bool options)
    {
        if (id >= 256)
        {
            session.Templates.Remove(id);
            return;
        }

        List<ushort>? remove = null;
        foreach (var (key, template) in session.Templates)
        {
            if (template.IsOptions == options)
            {
                (remove ??= []).Add(key);
            }
        }

        if (remove is not null)
        {
            foreach (var key in remove)
            {
                session.Templates.Remove(key);
            }
        }
    }

    private static void RemoveExpired(IpfixSession session, long nowMs)
    {
        List<ushort>? remove = null;
        foreach (var (key, template) in session.Templates)
        {
            if (template.ExpiresAtMs <= nowMs)
            {
                (remove ??= []).Add(key);
            }
        }

        if (remove is not null)
        {
            foreach (var key in remove)
            {
                session.Templates.Remove(key);
            }
        }
    }

    private void EvictLeastRecentlySeen(int count)
    {
        var entries = new List<KeyValuePair<(IPAddress, uint, int), IpfixSession>>(_sessions);
        entries.Sort((a, b) => a.Value.LastSeenMs.CompareTo(b.Value.LastSeenMs));
        for (var i = 0; i < count && i < entries.Count; i++)
        {
            _sessions.Remove(entries[i].Key);
        }
    }

    private void EvictIdle(long nowMs)
    {
        List<(IPAddress, uint, int)>? remove = null;
        foreach (var (key, session) in _sessions)
        {
            if (session.LastSeenMs + _lifetimeMs <= nowMs)
            {
                (remove ??= []).Add(key);
            }
        }

        if (remove is not null)
        {
            foreach (var key in remove)
            {
                _sessions.Remove(key);
            }
        }
    }
}
