using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>Loki's request parameters: times, steps, direction, limit and the tenant header.</summary>
internal static partial class LokiParameters
{
    public const string TenantHeader = "X-Scope-OrgID";

    /// <summary>The earliest and latest times a Unix nanosecond <see cref="long"/> holds, as RFC 3339.</summary>
    private const string SupportedRange = "1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z";

    /// <summary>
    /// A time as Loki reads it: with a '.', float seconds (the fraction rounded to milliseconds); an
    /// integer of up to 10 characters is seconds, longer is nanoseconds; otherwise RFC 3339 (fraction to
    /// the nanosecond). Returns Unix nanoseconds; a time a nanosecond <see cref="long"/> cannot hold
    /// (before 1677-09-21 or after 2262-04-11) is a <see cref="QueryException"/>, never a wrapped value.
    /// </summary>
    public static long ParseTime(string? text, long fallbackNs, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallbackNs;
        }

        text = text.Trim();
        if (text.Contains('.', StringComparison.Ordinal)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            // As Loki: whole seconds, and the fraction rounded (half away from zero) to milliseconds.
            if (double.IsFinite(seconds) && Math.Abs(seconds) < 1e10)
            {
                var whole = Math.Truncate(seconds);
                var ms = (long)Math.Round((seconds - whole) * 1000, MidpointRounding.AwayFromZero);
                if (TryNanoseconds((long)whole, ms * 1_000_000, out var ns))
                {
                    return ns;
                }
            }

            throw OutOfRange(name, text);
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            if (text.Length > 10)
            {
                return integer;
            }

            return TryNanoseconds(integer, 0, out var ns) ? ns : throw OutOfRange(name, text);
        }

        if (Rfc3339().Match(text) is { Success: true } m)
        {
            return Rfc3339Nanoseconds(m, name, out var ns) ? ns : throw OutOfRange(name, text);
        }

        throw new QueryException($"invalid parameter \"{name}\": cannot parse \"{text}\" to a valid timestamp");
    }

    /// <summary><paramref name="ns"/> minus <paramref name="duration"/>, or the earliest time a nanosecond <see cref="long"/> holds.</summary>
    public static long Before(long ns, TimeSpan duration)
    {
        var before = (Int128)ns - ((Int128)duration.Ticks * 100);
        return before < long.MinValue ? long.MinValue : (long)before;
    }

    /// <summary>RFC 3339 as Go's <c>time.RFC3339Nano</c> reads it; the fraction may have any number of digits.</summary>
    [GeneratedRegex(@"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$",
        RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    /// <summary>
    /// The nanoseconds of an RFC 3339 match (groups: year, month, day, hour, minute, second, fraction,
    /// offset sign, hours, minutes); false when they overflow. A date that does not exist is a parse error.
    /// </summary>
    private static bool Rfc3339Nanoseconds(Match m, string name, out long ns)
    {
        int Group(int i) => int.Parse(m.Groups[i].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
        var (year, month, day) = (Group(1), Group(2), Group(3));
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || Group(4) > 23 || Group(5) > 59 || Group(6) > 59 || (m.Groups[8].Success && (Group(9) > 23 || Group(10) > 59)))
        {
            throw new QueryException($"invalid parameter \"{name}\": cannot parse \"{m.Value}\" to a valid timestamp");
        }

        var seconds = (new DateTime(year, month, day, Group(4), Group(5), Group(6), DateTimeKind.Utc).Ticks
            - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;
        if (m.Groups[8].Success)
        {
            var offset = (Group(9) * 3600L) + (Group(10) * 60L);
            seconds -= m.Groups[8].ValueSpan[0] == '+' ? offset : -offset;
        }

        // Digits past the ninth are below a nanosecond: truncated, as Go truncates them.
        long nanos = 0;
        var fraction = m.Groups[7].ValueSpan;
        for (var i = 0; i < 9; i++)
        {
            nanos = (nanos * 10) + (i < fraction.Length ? fraction[i] - '0' : 0);
        }

        return TryNanoseconds(seconds, nanos, out ns);
    }

    private static bool TryNanoseconds(long seconds, long nanos, out long ns)
    {
        if (seconds < 0 && nanos > 0)
        {
            // The first instants of the range: -9223372037 s + 145224192 ns, whose seconds alone overflow.
            seconds++;
            nanos -= 1_000_000_000;
        }

        try
        {
            ns = checked((seconds * 1_000_000_000) + nanos);
            return true;
        }
        catch (OverflowException)
        {
            ns = 0;
            return false;
        }
    }

    private static QueryException OutOfRange(string name, string text) =>
        new($"invalid parameter \"{name}\": {text} is outside the supported range ({SupportedRange})");

    /// <summary>
    /// A step: a duration (<c>15s</c>, <c>15000ms</c>) or float seconds (<c>15</c>, <c>1.5</c>). Milliseconds.
    /// Seconds whose nanoseconds overflow an <see cref="long"/> are refused, as Loki refuses them.
    /// </summary>
    public static long? ParseStep(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            if (!double.IsFinite(seconds))
            {
                throw new QueryException($"invalid parameter \"step\": cannot parse \"{text}\" to a valid duration");
            }

            if (Math.Abs(seconds * 1e9) >= 9.2233720368547758E18)
            {
                throw new QueryException($"invalid parameter \"step\": cannot parse \"{text}\" to a valid duration. It overflows int64");
            }

            return (long)Math.Round(seconds * 1000);
        }

        if (LogQLDuration.TryParse(text, out var duration))
        {
            return (long)duration.TotalMilliseconds;
        }

        throw new QueryException($"invalid parameter \"step\": cannot parse \"{text}\" to a valid duration");
    }

    public static bool ParseForward(string? text) => text?.Trim().ToUpperInvariant() switch
    {
        null or "" or "BACKWARD" => false,
        "FORWARD" => true,
        _ => throw new QueryException($"invalid parameter \"direction\": invalid direction '{text}'"),
    };

    public static int ParseLimit(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return 100;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
        {
            throw new QueryException($"invalid parameter \"limit\": cannot parse \"{text}\" to a valid integer");
        }

        if (limit <= 0)
        {
            throw new QueryException("limit must be a positive value");
        }

        return limit;
    }

    /// <summary>
    /// What a request may read: the grant authentication put on it, else (no authentication configured) the
    /// tenants of <c>X-Scope-OrgID</c> (several joined with <c>|</c>), else the default tenant.
    /// </summary>
    public static FlowAccess Access(HttpContext context)
    {
        if (FlowAccess.Get(context) is { } granted)
        {
            return granted;
        }

        var tenants = FlowAccess.ParseTenants(context.Request.Headers[TenantHeader].ToString());
        return new FlowAccess(tenants.Length == 0 ? [Flows.FlowRecord.DefaultTenant] : tenants);
    }

    /// <summary>
    /// Reads a parameter from the query string, or from a form body on POST. A form past ASP.NET Core's limits
    /// (<c>FormOptions</c>: a value of at most 4 MiB, 1,024 values) is a <see cref="QueryException"/> naming the limit.
    /// </summary>
    public static async Task<Func<string, string?>> ReaderAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        Microsoft.AspNetCore.Http.IFormCollection? form = null;
        if (HttpMethods.IsPost(request.Method) && request.HasFormContentType)
        {
            try
            {
                form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                throw new QueryException("invalid form body: " + ex.Message, ex);
            }
        }

        return name =>
        {
            var value = request.Query[name];
            if (value.Count == 0 && form is not null)
            {
                value = form[name];
            }

            return value.Count == 0 ? null : value.ToString();
        };
    }

    /// <summary>All values of a repeated parameter (<c>match[]</c>), from the query string and a form body.</summary>
    public static IReadOnlyList<string> All(HttpRequest request, string name)
    {
        var values = new List<string>();
        values.AddRange(request.Query[name].Where(v => v is not null).Select(v => v!));
        if (request.HasFormContentType && request.Form.TryGetValue(name, out var form))
        {
            values.AddRange(form.Where(v => v is not null).Select(v => v!));
        }

        return values;
    }
}
