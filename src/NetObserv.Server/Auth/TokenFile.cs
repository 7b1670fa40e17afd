using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NetObserv.Flows.LokiPush;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NetObserv.Server.Auth;

/// <summary>
/// The tokens file:
/// <code>
/// tokens:
///   - token: s3cret                  # exactly one of token / token_sha256 (hex of SHA-256 of the token)
///     tenants: [default, team-a]     # the first is used when a request names no tenant
///     access: [query, push]          # at least one of query, push
///     namespaces: [shop, payments]   # optional: only flows from or to these namespaces are seen
/// </code>
/// Tokens are kept as their SHA-256 only. Every problem is reported with its line.
/// </summary>
internal sealed class TokenFile
{
    /// <summary>Most tokens one file may hold.</summary>
    public const int MaxTokens = 10_000;

    private static readonly HashSet<string> s_keys = new(StringComparer.Ordinal)
    {
        "token", "token_sha256", "tenants", "access", "namespaces", "name",
    };

    private TokenFile(IReadOnlyList<(byte[] Hash, TokenGrant Grant)> tokens) => Tokens = tokens;

    /// <summary>SHA-256 of each token, with its grant.</summary>
    public IReadOnlyList<(byte[] Hash, TokenGrant Grant)> Tokens { get; }

    /// <exception cref="TokenFileException">The file is unreadable or invalid.</exception>
    public static TokenFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenFileException(path, [e.Message]);
        }

        return Parse(text, path);
    }

    /// <exception cref="TokenFileException">The text is not a valid tokens file.</exception>
    public static TokenFile Parse(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new TokenFileException(source, [$"line {e.Start.Line}: not valid YAML: {e.Message}"]);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("tokens"), out var list) || list is not YamlSequenceNode sequence)
        {
            throw new TokenFileException(source, ["the file must be one mapping with a list 'tokens:'"]);
        }

        var errors = new List<string>();
        var tokens = new List<(byte[], TokenGrant)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (sequence.Children.Count > MaxTokens)
        {
            throw new TokenFileException(source, [$"more than {MaxTokens} tokens"]);
        }

        foreach (var item in sequence.Children)
        {
            var line = item.Start.Line;
            if (item is not YamlMappingNode entry)
            {
                errors.Add($"line {line}: a token entry must be a mapping");
                continue;
            }

            var before = errors.Count;
            foreach (var key in entry.Children.Keys)
            {
                if (key is not YamlScalarNode { Value: { } name } || !s_keys.Contains(name))
                {
                    errors.Add($"line {key.Start.Line}: unknown key '{key}' (token, token_sha256, tenants, access, namespaces, name)");
                }
            }

            var plain = Scalar(entry, "token", errors);
            var hex = Scalar(entry, "token_sha256", errors);
            byte[]? hash = null;
            if ((plain is null) == (hex is null))
            {
                errors.Add($"line {line}: exactly one of 'token' and 'token_sha256' is expected");
            }
            else if (plain is not null)
            {
                hash = plain.Length == 0 ? null : SHA256.HashData(Encoding.UTF8.GetBytes(plain));
                if (hash is null)
                {
                    errors.Add($"line {line}: 'token' must not be empty");
                }
            }
            else if (hex!.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                errors.Add($"line {line}: 'token_sha256' must be 64 hexadecimal digits (SHA-256 of the token)");
            }
            else
            {
                hash = Convert.FromHexString(hex);
            }

            var tenants = List(entry, "tenants", errors) ?? [];
            if (tenants.Count == 0)
            {
                errors.Add($"line {line}: 'tenants' must list at least one tenant");
            }

            foreach (var tenant in tenants.Where(t => !LokiPushTenant.IsValid(t)))
            {
                errors.Add($"line {line}: tenant '{tenant}' is not a valid tenant ID (1 to 150 letters, digits or !-_.*'())");
            }

            var access = List(entry, "access", errors) ?? [];
            foreach (var a in access.Where(a => a is not ("query" or "push")))
            {
                errors.Add($"line {line}: access '{a}' is not query or push");
            }

            if (access.Count == 0)
            {
                errors.Add($"line {line}: 'access' must list query, push or both");
            }

            var namespaces = List(entry, "namespaces", errors);
            if (namespaces is { Count: 0 })
            {
                errors.Add($"line {line}: 'namespaces' must list at least one namespace when present (leave it out for all)");
            }

            if (hash is not null && !seen.Add(Convert.ToHexString(hash)))
            {
                errors.Add($"line {line}: the same token appears twice");
            }

            if (errors.Count == before)
            {
                var name = Scalar(entry, "name", errors) ?? "token at line " + line.ToString(CultureInfo.InvariantCulture);
                tokens.Add((hash!, new TokenGrant(name, tenants.Distinct(StringComparer.Ordinal).ToList(),
                    access.Contains("query"), access.Contains("push"), namespaces)));
            }
        }

        return errors.Count > 0 ? throw new TokenFileException(source, errors) : new TokenFile(tokens);
    }

    private static string? Scalar(YamlMappingNode entry, string key, List<string> errors)
    {
        if (!entry.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            return null;
        }

        if (node is YamlScalarNode scalar)
        {
            return scalar.Value ?? "";
        }

        errors.Add($"line {node.Start.Line}: '{key}' must be a single value");
        return null;
    }

    private static List<string>? List(YamlMappingNode entry, string key, List<string> errors)
    {
        if (!entry.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            return null;
        }

        if (node is not YamlSequenceNode sequence)
        {
            errors.Add($"line {node.Start.Line}: '{key}' must be a list");
            return [];
        }

        var values = new List<string>();
        foreach (var child in sequence.Children)
        {
            if (child is YamlScalarNode { Value: { Length: > 0 } value })
            {
                values.Add(value);
            }
            else
            {
                errors.Add($"line {child.Start.Line}: each item of '{key}' must be a non-empty value");
            }
        }

        return values;
    }
}

/// <summary>A tokens file that cannot be used; <see cref="Exception.Message"/> lists every problem.</summary>
internal sealed class TokenFileException : Exception
{
    public TokenFileException()
    {
    }

    public TokenFileException(string message)
        : base(message)
    {
    }

    public TokenFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TokenFileException(string source, IReadOnlyList<string> errors)
        : base($"{source}: " + string.Join("; ", errors))
    {
    }
}
