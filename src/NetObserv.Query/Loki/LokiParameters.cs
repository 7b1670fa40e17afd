using System.Globalization;
using Microsoft.AspNetCore.Http;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>Loki's request parameters: times, steps, direction, limit and the tenant header.</summary>
internal static class LokiParameters
{
    public const string TenantHeader = "X-Scope-OrgID";

    /// <summary>
    /// A time as Loki reads it: a float is seconds; an integer of up to 10 digits is seconds, longer is
    /// nanoseconds; otherwise RFC 3339. Returns Unix nanoseconds.
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
            return (long)Math.Round(seconds * 1000) * 1_000_000;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return text.TrimStart('-').Length <= 10 ? integer * 1_000_000_000 : integer;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return (time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        }

        throw new QueryException($"invalid parameter \"{name}\": cannot parse \"{text}\" to a valid timestamp");
    }

    /// <summary>A step: a duration (<c>15s</c>, <c>15000ms</c>) or float seconds (<c>15</c>, <c>1.5</c>). Milliseconds.</summary>
    public static long? ParseStep(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
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

    /// <summary>The tenants of a request: <c>X-Scope-OrgID</c> (several joined with <c>|</c>), else the default.</summary>
    public static string[] Tenants(HttpRequest request)
    {
        var header = request.Headers[TenantHeader].ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            return [Flows.FlowRecord.DefaultTenant];
        }

        return header.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
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
