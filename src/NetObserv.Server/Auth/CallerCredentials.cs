using System.Text;
using Microsoft.Extensions.Primitives;

namespace NetObserv.Server.Auth;

/// <summary>Reads the token of an <c>Authorization</c> value: <c>Bearer &lt;token&gt;</c>, or HTTP Basic with the token as password.</summary>
internal static class CallerCredentials
{
    /// <summary>Longest <c>Authorization</c> value read; longer is no token.</summary>
    public const int MaxLength = 16 * 1024;

    public static string? Token(StringValues header)
    {
        if (header.Count != 1 || header[0] is not { Length: > 0 and <= MaxLength } value)
        {
            return null;
        }

        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return null;
        }

        var scheme = value[..space];
        var credentials = value[(space + 1)..].Trim();
        if (credentials.Length == 0)
        {
            return null;
        }

        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return credentials;
        }

        if (!scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var bytes = new byte[(credentials.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(credentials, bytes, out var written))
        {
            return null;
        }

        var pair = Encoding.UTF8.GetString(bytes, 0, written);
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 || colon == pair.Length - 1 ? null : pair[(colon + 1)..];
    }
}
