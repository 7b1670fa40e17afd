using System.Globalization;
using System.Text;

namespace NetObserv.Query.LogQL;

/// <summary>
/// A regular expression in RE2 syntax (what Loki accepts), parsed into a small tree and printed for
/// PostgreSQL's ARE dialect or for .NET. Meaning is kept by construction rather than by text rewriting:
/// flags (<c>(?i)</c>, <c>(?m)</c>, <c>(?s)</c>, <c>(?i:...)</c>, anywhere in the pattern) are applied while
/// parsing, so case-insensitive letters become classes of their case variants and <c>.</c> becomes
/// <c>[^\n]</c> unless <c>s</c> is set; <c>\d</c>, <c>\s</c>, <c>\w</c> and POSIX classes are ASCII as in
/// RE2; every class is printed as explicit code point ranges. Greediness does not change whether a
/// pattern matches, so lazy quantifiers and <c>U</c> are accepted and printed greedy. What RE2 rejects
/// (backreferences, lookarounds, bad escapes) and what has no translation (<c>\p{...}</c> Unicode classes,
/// <c>\C</c>) throw <see cref="Re2Exception"/>.
/// </summary>
internal sealed class Re2Regex
{
    /// <summary>Most nested groups in a pattern (RE2 allows 1,000; the printers recurse once per level).</summary>
    public const int MaxNesting = 200;

    /// <summary>Largest repetition count, as in RE2.</summary>
    public const int MaxRepeat = 1000;

    private const int MaxCodePoint = 0x10FFFF;

    private readonly Node _root;

    private Re2Regex(Node root)
    {
        _root = root;
    }

    /// <summary>Parses <paramref name="pattern"/>; throws <see cref="Re2Exception"/> for invalid or untranslatable syntax.</summary>
    public static Re2Regex Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parser = new Parser(pattern);
        return new Re2Regex(parser.ParseAll());
    }

    /// <summary>The pattern for PostgreSQL's <c>~</c>; when <paramref name="anchored"/>, it must match the whole value.</summary>
    public string ToPostgres(bool anchored)
    {
        var sb = new StringBuilder();
        if (anchored)
        {
            sb.Append("^(?:");
        }

        new PostgresPrinter(sb).Print(_root);
        if (anchored)
        {
            sb.Append(")$");
        }

        return sb.ToString();
    }

    /// <summary>The pattern for .NET's <see cref="System.Text.RegularExpressions.Regex"/> (no options needed).</summary>
    public string ToDotNet(bool anchored)
    {
        var sb = new StringBuilder();
        if (anchored)
        {
            sb.Append(@"\A(?:");
        }

        new DotNetPrinter(sb).Print(_root);
        if (anchored)
        {
            sb.Append(@")\z");
        }

        return sb.ToString();
    }

    // ---------------------------------------------------------------------------------------- tree

    private abstract record Node;

    /// <summary>A set of code points, as sorted disjoint inclusive ranges.</summary>
    private sealed record ClassNode(List<(int Lo, int Hi)> Ranges) : Node;

    private sealed record ConcatNode(List<Node> Items) : Node;

    private sealed record AlternateNode(List<Node> Items) : Node;

    private sealed record RepeatNode(Node Item, int Min, int Max) : Node; // Max -1: unbounded

    private sealed record AssertNode(AssertKind Kind) : Node;

    private sealed record EmptyNode : Node;

    private enum AssertKind
    {
        BeginText,
        EndText,
        BeginLine,
        EndLine,
        WordBoundary,
        NotWordBoundary,
    }

    [Flags]
    private enum Flags
    {
        None = 0,
        FoldCase = 1,
        MultiLine = 2,
        DotNewline = 4,
        Ungreedy = 8,
    }

    // ---------------------------------------------------------------------------------------- parser

    private sealed class Parser
    {
        private readonly string _text;
        private int _pos;
        private int _depth;
        private Flags _flags;

        public Parser(string text)
        {
            _text = text;
        }

        private bool AtEnd => _pos >= _text.Length;

        private Re2Exception Error(string message) => new($"{message} at offset {_pos.ToString(CultureInfo.InvariantCulture)}");

        public Node ParseAll()
        {
            var node = ParseAlternation();
            if (!AtEnd)
            {
                throw Error("unexpected )");
            }

            return node;
        }

        private int PeekCodePoint() => char.IsHighSurrogate(_text[_pos]) && _pos + 1 < _text.Length
            && char.IsLowSurrogate(_text[_pos + 1])
            ? char.ConvertToUtf32(_text[_pos], _text[_pos + 1])
            : _text[_pos];

        private int NextCodePoint()
        {
            var c = PeekCodePoint();
            _pos += c > 0xFFFF ? 2 : 1;
            return c;
        }

        private Node ParseAlternation()
        {
            var branches = new List<Node> { ParseConcat() };
            while (!AtEnd && _text[_pos] == '|')
            {
                _pos++;
                branches.Add(ParseConcat());
            }

            return branches.Count == 1 ? branches[0] : new AlternateNode(branches);
        }

        private Node ParseConcat()
        {
            var items = new List<Node>();
            var lastWasRepeat = false;
            while (!AtEnd && _text[_pos] is not ('|' or ')'))
            {
                var c = _text[_pos];
                if (c is '*' or '+' or '?' || (c == '{' && TryRepeatCount(out _, out _, out _)))
                {
                    if (items.Count == 0)
                    {
                        throw Error("missing argument to repetition operator");
                    }

                    if (lastWasRepeat)
                    {
                        throw Error("invalid nested repetition operator");
                    }

                    int min, max;
                    if (c == '{')
                    {
                        TryRepeatCount(out min, out max, out var length);
                        _pos += length;
                    }
                    else
                    {
                        _pos++;
                        (min, max) = c switch { '*' => (0, -1), '+' => (1, -1), _ => (0, 1) };
                    }

                    if (!AtEnd && _text[_pos] == '?')
                    {
                        _pos++; // lazy: same matches
                    }

                    items[^1] = Repeat(items[^1], min, max);
                    lastWasRepeat = true;
                    continue;
                }

                lastWasRepeat = false;
                if (ParseAtom() is { } atom)
                {
                    items.Add(atom);
                }
            }

            return items.Count switch
            {
                0 => new EmptyNode(),
                1 => items[0],
                _ => new ConcatNode(items),
            };
        }

        private static Node Repeat(Node item, int min, int max)
        {
            // An empty-width assertion repeated is itself or nothing (PostgreSQL refuses quantified assertions).
            if (item is AssertNode or EmptyNode)
            {
                return min == 0 ? new EmptyNode() : item;
            }

            return new RepeatNode(item, min, max);
        }

        /// <summary>Reads <c>{n}</c>, <c>{n,}</c> or <c>{n,m}</c> at the current position without moving.</summary>
        private bool TryRepeatCount(out int min, out int max, out int length)
        {
            min = max = length = 0;
            var i = _pos + 1;
            if (!ReadNumber(ref i, out min))
            {
                return false;
            }

            if (i < _text.Length && _text[i] == '}')
            {
                max = min;
            }
            else if (i < _text.Length && _text[i] == ',')
            {
                i++;
                if (i < _text.Length && _text[i] == '}')
                {
                    max = -1;
                }
                else if (!ReadNumber(ref i, out max) || i >= _text.Length || _text[i] != '}')
                {
                    return false;
                }
            }
            else
            {
                return false;
            }

            length = i + 1 - _pos;
            if (min > MaxRepeat || max > MaxRepeat || (max >= 0 && max < min))
            {
                throw Error("invalid repeat count");
            }

            return true;
        }

        private bool ReadNumber(ref int i, out int value)
        {
            value = 0;
            var start = i;
            while (i < _text.Length && char.IsAsciiDigit(_text[i]))
            {
                if (value <= MaxRepeat)
                {
                    value = (value * 10) + (_text[i] - '0');
                }

                i++;
            }

            return i > start;
        }

        private Node? ParseAtom()
        {
            var c = _text[_pos];
            switch (c)
            {
                case '(':
                    return ParseGroup();
                case '[':
                    return ParseClass();
                case '.':
                    _pos++;
                    return (_flags & Flags.DotNewline) != 0
                        ? new ClassNode([(0, MaxCodePoint)])
                        : new ClassNode([(0, '\n' - 1), ('\n' + 1, MaxCodePoint)]);
                case '^':
                    _pos++;
                    return new AssertNode((_flags & Flags.MultiLine) != 0 ? AssertKind.BeginLine : AssertKind.BeginText);
                case '$':
                    _pos++;
                    return new AssertNode((_flags & Flags.MultiLine) != 0 ? AssertKind.EndLine : AssertKind.EndText);
                case '\\':
                    return ParseEscapeAtom();
                default:
                    return Literal(NextCodePoint());
            }
        }

        private ClassNode Literal(int c) => (_flags & Flags.FoldCase) != 0
            ? new ClassNode(CaseFold([(c, c)]))
            : new ClassNode([(c, c)]);

        private Node? ParseGroup()
        {
            var open = _pos;
            _pos++;
            var saved = _flags;
            if (_pos < _text.Length && _text[_pos] == '?')
            {
                _pos++;
                if (AtEnd)
                {
                    throw Error("missing argument to repetition operator");
                }

                if (_text[_pos] == 'P' || (_text[_pos] == '<' && _pos + 1 < _text.Length && _text[_pos + 1] is not ('=' or '!')))
                {
                    // Named capture (?P<name>re) or (?<name>re): a plain group here.
                    if (_text[_pos] == 'P')
                    {
                        _pos++;
                    }

                    if (AtEnd || _text[_pos] != '<')
                    {
                        throw Error("invalid named capture");
                    }

                    var close = _text.IndexOf('>', _pos);
                    if (close < 0 || close == _pos + 1 || !IsGroupName(_text.AsSpan(_pos + 1, close - _pos - 1)))
                    {
                        throw Error("invalid named capture");
                    }

                    _pos = close + 1;
                }
                else
                {
                    // Flags: (?flags) for the rest of the enclosing group, (?flags:re) for re only.
                    var flags = _flags;
                    var negate = false;
                    var any = false;
                    while (true)
                    {
                        if (AtEnd)
                        {
                            throw Error("missing closing )");
                        }

                        var f = _text[_pos++];
                        Flags bit;
                        switch (f)
                        {
                            case 'i': bit = Flags.FoldCase; break;
                            case 'm': bit = Flags.MultiLine; break;
                            case 's': bit = Flags.DotNewline; break;
                            case 'U': bit = Flags.Ungreedy; break;
                            case '-':
                                if (negate)
                                {
                                    throw Error("invalid or unsupported Perl syntax");
                                }

                                negate = true;
                                any = false;
                                continue;
                            case ')' or ':':
                                if (!any && (negate || f == ')'))
                                {
                                    throw Error("invalid or unsupported Perl syntax");
                                }

                                if (f == ')')
                                {
                                    _flags = flags; // stays set until the enclosing group closes
                                    return null;
                                }

                                _flags = flags;
                                goto body;
                            default:
                                throw Error("invalid or unsupported Perl syntax (lookarounds and backreferences are not RE2)");
                        }

                        flags = negate ? flags & ~bit : flags | bit;
                        any = true;
                    }
                }
            }

        body:
            if (++_depth > MaxNesting)
            {
                throw Error($"more than {MaxNesting} nested groups");
            }

            var inner = ParseAlternation();
            _depth--;
            if (AtEnd || _text[_pos] != ')')
            {
                _pos = open;
                throw Error("missing closing )");
            }

            _pos++;
            _flags = saved;
            return inner is EmptyNode ? inner : new ConcatNode([inner]);
        }

        private static bool IsGroupName(ReadOnlySpan<char> name)
        {
            foreach (var ch in name)
            {
                if (!char.IsAsciiLetterOrDigit(ch) && ch != '_')
                {
                    return false;
                }
            }

            return true;
        }

        private Node? ParseEscapeAtom()
        {
            var start = _pos;
            _pos++;
            if (AtEnd)
            {
                throw Error("trailing backslash at end of expression");
            }

            switch (_text[_pos])
            {
                case 'A':
                    _pos++;
                    return new AssertNode(AssertKind.BeginText);
                case 'z':
                    _pos++;
                    return new AssertNode(AssertKind.EndText);
                case 'b':
                    _pos++;
                    return new AssertNode(AssertKind.WordBoundary);
                case 'B':
                    _pos++;
                    return new AssertNode(AssertKind.NotWordBoundary);
                case 'Q':
                    _pos++;
                    var end = _text.IndexOf(@"\E", _pos, StringComparison.Ordinal);
                    var literal = end < 0 ? _text[_pos..] : _text[_pos..end];
                    _pos = end < 0 ? _text.Length : end + 2;
                    var items = new List<Node>();
                    for (var i = 0; i < literal.Length;)
                    {
                        var cp = char.IsHighSurrogate(literal[i]) && i + 1 < literal.Length && char.IsLowSurrogate(literal[i + 1])
                            ? char.ConvertToUtf32(literal[i], literal[i + 1])
                            : literal[i];
                        i += cp > 0xFFFF ? 2 : 1;
                        items.Add(Literal(cp));
                    }

                    return items.Count == 0 ? null : new ConcatNode(items);
            }

            _pos = start;
            var ranges = ParseEscape(inClass: false);
            return (_flags & Flags.FoldCase) != 0 ? new ClassNode(CaseFold(ranges)) : new ClassNode(ranges);
        }

        /// <summary>Reads an escape at <c>\</c>: a character or a class, as ranges.</summary>
        private List<(int, int)> ParseEscape(bool inClass)
        {
            _pos++; // the backslash
            if (AtEnd)
            {
                throw Error("trailing backslash at end of expression");
            }

            var c = _text[_pos++];
            switch (c)
            {
                case 'a': return [(7, 7)];
                case 'f': return [(12, 12)];
                case 't': return [(9, 9)];
                case 'n': return [(10, 10)];
                case 'r': return [(13, 13)];
                case 'v': return [(11, 11)];
                case 'd': return Digits();
                case 'D': return Negate(Digits());
                case 's': return Spaces();
                case 'S': return Negate(Spaces());
                case 'w': return Word();
                case 'W': return Negate(Word());
                case 'x':
                    var hex = ParseHex();
                    return [(hex, hex)];
                case 'p' or 'P':
                    throw Error("Unicode classes (\\p, \\P) cannot be translated to PostgreSQL");
                case 'C':
                    throw Error("\\C (any byte) cannot be translated to PostgreSQL");
                case >= '1' and <= '7' when AtEnd || _text[_pos] is < '0' or > '7':
                    throw Error("backreferences are not RE2");
                case >= '0' and <= '7':
                    var value = c - '0';
                    for (var i = 0; i < 2 && !AtEnd && _text[_pos] is >= '0' and <= '7'; i++)
                    {
                        value = (value * 8) + (_text[_pos++] - '0');
                    }

                    return [(value, value)];
                default:
                    if (c < 0x80 && !char.IsAsciiLetterOrDigit(c))
                    {
                        return [(c, c)];
                    }

                    _pos--;
                    throw Error(inClass ? "invalid escape sequence in class" : "invalid escape sequence");
            }
        }

        private int ParseHex()
        {
            if (AtEnd)
            {
                throw Error("invalid escape sequence");
            }

            int value;
            if (_text[_pos] == '{')
            {
                var close = _text.IndexOf('}', _pos);
                if (close < 0 || close == _pos + 1 || close - _pos - 1 > 8
                    || !int.TryParse(_text.AsSpan(_pos + 1, close - _pos - 1), NumberStyles.AllowHexSpecifier,
                        CultureInfo.InvariantCulture, out value) || value > MaxCodePoint)
                {
                    throw Error("invalid escape sequence");
                }

                _pos = close + 1;
                return value;
            }

            if (_pos + 2 > _text.Length || !int.TryParse(_text.AsSpan(_pos, 2), NumberStyles.AllowHexSpecifier,
                CultureInfo.InvariantCulture, out value))
            {
                throw Error("invalid escape sequence");
            }

            _pos += 2;
            return value;
        }

        private ClassNode ParseClass()
        {
            var open = _pos;
            _pos++;
            var negated = false;
            if (!AtEnd && _text[_pos] == '^')
            {
                negated = true;
                _pos++;
            }

            var ranges = new List<(int, int)>();
            var first = true;
            while (true)
            {
                if (AtEnd)
                {
                    _pos = open;
                    throw Error("missing closing ]");
                }

                var c = _text[_pos];
                if (c == ']' && !first)
                {
                    _pos++;
                    break;
                }

                first = false;
                if (c == '[' && _pos + 1 < _text.Length && _text[_pos + 1] == ':')
                {
                    var close = _text.IndexOf(":]", _pos + 2, StringComparison.Ordinal);
                    if (close > 0 && Posix(_text[(_pos + 2)..close]) is { } posix)
                    {
                        ranges.AddRange(posix);
                        _pos = close + 2;
                        continue;
                    }
                }

                List<(int, int)> lo;
                if (c == '\\')
                {
                    lo = ParseEscape(inClass: true);
                }
                else
                {
                    var cp = NextCodePoint();
                    lo = [(cp, cp)];
                }

                if (lo.Count == 1 && lo[0].Item1 == lo[0].Item2 && _pos + 1 < _text.Length && _text[_pos] == '-'
                    && _text[_pos + 1] != ']')
                {
                    _pos++;
                    List<(int, int)> hi;
                    if (_text[_pos] == '\\')
                    {
                        hi = ParseEscape(inClass: true);
                    }
                    else
                    {
                        var cp = NextCodePoint();
                        hi = [(cp, cp)];
                    }

                    if (hi.Count != 1 || hi[0].Item1 != hi[0].Item2 || hi[0].Item1 < lo[0].Item1)
                    {
                        throw Error("invalid character class range");
                    }

                    ranges.Add((lo[0].Item1, hi[0].Item1));
                    continue;
                }

                ranges.AddRange(lo);
            }

            var set = Normalize(ranges);
            if ((_flags & Flags.FoldCase) != 0)
            {
                set = CaseFold(set);
            }

            return new ClassNode(negated ? Negate(set) : set);
        }

        private static List<(int, int)>? Posix(string name)
        {
            var negate = name.StartsWith('^');
            List<(int, int)>? set = (negate ? name[1..] : name) switch
            {
                "alnum" => [('0', '9'), ('A', 'Z'), ('a', 'z')],
                "alpha" => [('A', 'Z'), ('a', 'z')],
                "ascii" => [(0, 0x7F)],
                "blank" => [('\t', '\t'), (' ', ' ')],
                "cntrl" => [(0, 0x1F), (0x7F, 0x7F)],
                "digit" => [('0', '9')],
                "graph" => [('!', '~')],
                "lower" => [('a', 'z')],
                "print" => [(' ', '~')],
                "punct" => [('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
                "space" => [('\t', '\r'), (' ', ' ')],
                "upper" => [('A', 'Z')],
                "word" => [('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')],
                "xdigit" => [('0', '9'), ('A', 'F'), ('a', 'f')],
                _ => null,
            };
            return set is null ? null : negate ? Negate(Normalize(set)) : set;
        }

        private static List<(int, int)> Digits() => [('0', '9')];

        private static List<(int, int)> Spaces() => [('\t', '\n'), ('\f', '\r'), (' ', ' ')];

        private static List<(int, int)> Word() => [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
    }

    // ---------------------------------------------------------------------------------------- sets

    private static List<(int Lo, int Hi)> Normalize(List<(int Lo, int Hi)> ranges)
    {
        ranges.Sort((a, b) => a.Lo.CompareTo(b.Lo));
        var result = new List<(int, int)>();
        foreach (var (lo, hi) in ranges)
        {
            if (result.Count > 0 && lo <= result[^1].Item2 + 1)
            {
                result[^1] = (result[^1].Item1, Math.Max(result[^1].Item2, hi));
            }
            else
            {
                result.Add((lo, hi));
            }
        }

        return result;
    }

    private static List<(int Lo, int Hi)> Negate(List<(int Lo, int Hi)> ranges, int from = 0)
    {
        var set = Normalize([.. ranges]);
        var result = new List<(int, int)>();
        var next = from;
        foreach (var (lo, hi) in set)
        {
            if (lo > next)
            {
                result.Add((next, lo - 1));
            }

            next = hi + 1;
        }

        if (next <= MaxCodePoint)
        {
            result.Add((next, MaxCodePoint));
        }

        return result;
    }

    // Case-fold orbits beyond ToUpper/ToLower (Unicode simple folding as RE2 applies it).
    private static readonly (int, int)[] s_extraFolds =
    [
        ('K', 0x212A), ('k', 0x212A), ('S', 0x17F), ('s', 0x17F), (0xC5, 0x212B), (0xE5, 0x212B),
        (0xB5, 0x3BC), (0xB5, 0x39C),
    ];

    /// <summary>Adds the case variants of every code point of the BMP in <paramref name="ranges"/>.</summary>
    private static List<(int Lo, int Hi)> CaseFold(List<(int Lo, int Hi)> ranges)
    {
        long size = 0;
        foreach (var (lo, hi) in ranges)
        {
            size += Math.Min(hi, 0xFFFF) - Math.Min(lo, 0x10000) + 1;
        }

        if (size > 0x8000)
        {
            // A large set (".", a negated class): add each code point outside it that folds into it.
            var outside = new List<(int, int)>();
            foreach (var (lo, hi) in Negate(ranges))
            {
                for (var c = lo; c <= Math.Min(hi, 0xFFFF); c++)
                {
                    foreach (var v in Variants(c))
                    {
                        if (Contains(ranges, v))
                        {
                            outside.Add((c, c));
                            break;
                        }
                    }
                }
            }

            return Normalize([.. ranges, .. outside]);
        }

        var extra = new List<(int, int)>(ranges);
        foreach (var (lo, hi) in ranges)
        {
            for (var c = lo; c <= Math.Min(hi, 0xFFFF); c++)
            {
                foreach (var v in Variants(c))
                {
                    extra.Add((v, v));
                }
            }
        }

        return Normalize(extra);
    }

    /// <summary>The other code points of the case-fold orbit of <paramref name="c"/> (BMP only).</summary>
    private static IEnumerable<int> Variants(int c)
    {
        if (c is >= 0xD800 and <= 0xDFFF or > 0xFFFF)
        {
            yield break;
        }

        var ch = (char)c;
        var upper = char.ToUpperInvariant(ch);
        var lower = char.ToLowerInvariant(ch);
        if (upper != ch)
        {
            yield return upper;
        }

        if (lower != ch && lower != upper)
        {
            yield return lower;
        }

        foreach (var (a, b) in s_extraFolds)
        {
            if (c == a || upper == a || lower == a)
            {
                yield return b;
            }
            else if (c == b)
            {
                yield return a;
                yield return char.ToUpperInvariant((char)a) == a ? char.ToLowerInvariant((char)a) : char.ToUpperInvariant((char)a);
            }
        }
    }

    private static bool Contains(List<(int Lo, int Hi)> ranges, int c)
    {
        int lo = 0, hi = ranges.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (c < ranges[mid].Lo)
            {
                hi = mid - 1;
            }
            else if (c > ranges[mid].Hi)
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }

    // ---------------------------------------------------------------------------------------- printers

    private abstract class Printer
    {
        protected Printer(StringBuilder sb)
        {
            Sb = sb;
        }

        protected StringBuilder Sb { get; }

        public void Print(Node node)
        {
            switch (node)
            {
                case EmptyNode:
                    break;
                case ClassNode c:
                    PrintClass(c.Ranges);
                    break;
                case ConcatNode cat:
                    foreach (var item in cat.Items)
                    {
                        if (item is AlternateNode)
                        {
                            Sb.Append("(?:");
                            Print(item);
                            Sb.Append(')');
                        }
                        else
                        {
                            Print(item);
                        }
                    }

                    break;
                case AlternateNode alt:
                    for (var i = 0; i < alt.Items.Count; i++)
                    {
                        if (i > 0)
                        {
                            Sb.Append('|');
                        }

                        Print(alt.Items[i]);
                    }

                    break;
                case RepeatNode r:
                    PrintRepeat(r);
                    break;
                case AssertNode a:
                    PrintAssert(a.Kind);
                    break;
            }
        }

        protected void PrintAtom(Node node)
        {
            if (node is ClassNode)
            {
                Print(node);
            }
            else
            {
                Sb.Append("(?:");
                Print(node);
                Sb.Append(')');
            }
        }

        protected static string Quantifier(int min, int max) => (min, max) switch
        {
            (0, -1) => "*",
            (1, -1) => "+",
            (0, 1) => "?",
            (_, -1) => string.Create(CultureInfo.InvariantCulture, $"{{{min},}}"),
            _ when min == max => string.Create(CultureInfo.InvariantCulture, $"{{{min}}}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{{{min},{max}}}"),
        };

        protected virtual void PrintRepeat(RepeatNode r)
        {
            PrintAtom(r.Item);
            Sb.Append(Quantifier(r.Min, r.Max));
        }

        protected abstract void PrintClass(List<(int Lo, int Hi)> ranges);

        protected abstract void PrintAssert(AssertKind kind);
    }

    /// <summary>PostgreSQL ARE, default (not newline-sensitive) mode.</summary>
    private sealed class PostgresPrinter : Printer
    {
        // PostgreSQL's largest repetition bound (DUPMAX).
        private const int MaxBound = 255;
        private const string WordClass = "[0-9A-Z_a-z]";

        public PostgresPrinter(StringBuilder sb) : base(sb)
        {
        }

        protected override void PrintRepeat(RepeatNode r)
        {
            if (r.Min <= MaxBound && r.Max <= MaxBound)
            {
                base.PrintRepeat(r);
                return;
            }

            // x{n,m} past 255 as a product of bounded pieces: x{255}x{n-255}... then x{0,255}... or x*.
            var min = r.Min;
            while (min > 0)
            {
                var n = Math.Min(min, MaxBound);
                PrintAtom(r.Item);
                Sb.Append(Quantifier(n, n));
                min -= n;
            }

            if (r.Max < 0)
            {
                PrintAtom(r.Item);
                Sb.Append('*');
                return;
            }

            var optional = r.Max - r.Min;
            while (optional > 0)
            {
                var n = Math.Min(optional, MaxBound);
                PrintAtom(r.Item);
                Sb.Append(Quantifier(0, n));
                optional -= n;
            }
        }

        protected override void PrintClass(List<(int Lo, int Hi)> ranges)
        {
            // Text never holds NUL or surrogates: leave them out, so every printed code point is valid.
            var set = new List<(int Lo, int Hi)>();
            foreach (var (lo, hi) in ranges)
            {
                Clip(set, lo, hi, 1, 0xD7FF);
                Clip(set, lo, hi, 0xE000, MaxCodePoint);
            }

            if (set.Count == 0)
            {
                Sb.Append(@"[^\u0001-\uD7FF\uE000-\U0010FFFF]"); // matches nothing text can hold
                return;
            }

            if (set.Count == 1 && set[0].Lo == set[0].Hi)
            {
                Char(set[0].Lo);
                return;
            }

            var complement = Negate(set, from: 1);

            // Gaps over the surrogates are not ranges of text; drop them from the complement.
            complement.RemoveAll(r => r.Lo >= 0xD800 && r.Hi <= 0xDFFF);
            if (complement.Count == 0)
            {
                Sb.Append('.'); // every character (this mode is not newline-sensitive)
                return;
            }

            var negate = complement.Count < set.Count;
            Sb.Append(negate ? "[^" : "[");
            foreach (var (lo, hi) in negate ? complement : set)
            {
                Char(lo);
                if (hi != lo)
                {
                    Sb.Append('-');
                    Char(hi);
                }
            }

            Sb.Append(']');
        }

        private static void Clip(List<(int, int)> set, int lo, int hi, int min, int max)
        {
            var a = Math.Max(lo, min);
            var b = Math.Min(hi, max);
            if (a <= b)
            {
                set.Add((a, b));
            }
        }

        private void Char(int c)
        {
            if (c < 0x80 && char.IsAsciiLetterOrDigit((char)c))
            {
                Sb.Append((char)c);
            }
            else if (c <= 0xFFFF)
            {
                Sb.Append(@"\u").Append(c.ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                Sb.Append(@"\U").Append(c.ToString("X8", CultureInfo.InvariantCulture));
            }
        }

        protected override void PrintAssert(AssertKind kind) => Sb.Append(kind switch
        {
            AssertKind.BeginText => "^",
            AssertKind.EndText => "$",
            AssertKind.BeginLine => @"(?:^|(?<=\n))",
            AssertKind.EndLine => @"(?:$|(?=\n))",
            AssertKind.WordBoundary => $"(?:(?<={WordClass})(?!{WordClass})|(?<!{WordClass})(?={WordClass}))",
            _ => $"(?:(?<={WordClass})(?={WordClass})|(?<!{WordClass})(?!{WordClass}))",
        });
    }

    /// <summary>.NET, usable with <c>RegexOptions.NonBacktracking</c> (no lookarounds).</summary>
    private sealed class DotNetPrinter : Printer
    {
        public DotNetPrinter(StringBuilder sb) : base(sb)
        {
        }

        protected override void PrintClass(List<(int Lo, int Hi)> ranges)
        {
            var bmp = new List<(int Lo, int Hi)>();
            var astral = new List<(int Lo, int Hi)>();
            foreach (var (lo, hi) in ranges)
            {
                if (lo <= 0xFFFF)
                {
                    bmp.Add((lo, Math.Min(hi, 0xFFFF)));
                }

                if (hi > 0xFFFF)
                {
                    astral.Add((Math.Max(lo, 0x10000), hi));
                }
            }

            if (astral.Count == 0)
            {
                Bmp(bmp);
                return;
            }

            // Code points past the BMP are surrogate pairs: one alternative per high surrogate range.
            Sb.Append("(?:");
            var first = true;
            if (bmp.Count > 0)
            {
                Bmp(bmp);
                first = false;
            }

            foreach (var (lo, hi) in astral)
            {
                // A first partial block, the whole blocks between, a last partial block.
                int highLo = High(lo), highHi = High(hi);
                if (highLo == highHi)
                {
                    Pair(ref first, [(highLo, highLo)], Low(lo), Low(hi));
                    continue;
                }

                var wholeFrom = Low(lo) == 0xDC00 ? highLo : highLo + 1;
                var wholeTo = Low(hi) == 0xDFFF ? highHi : highHi - 1;
                if (wholeFrom != highLo)
                {
                    Pair(ref first, [(highLo, highLo)], Low(lo), 0xDFFF);
                }

                if (wholeFrom <= wholeTo)
                {
                    Pair(ref first, [(wholeFrom, wholeTo)], 0xDC00, 0xDFFF);
                }

                if (wholeTo != highHi)
                {
                    Pair(ref first, [(highHi, highHi)], 0xDC00, Low(hi));
                }
            }

            Sb.Append(')');
        }

        private static int High(int c) => 0xD800 + ((c - 0x10000) >> 10);

        private static int Low(int c) => 0xDC00 + ((c - 0x10000) & 0x3FF);

        private void Pair(ref bool first, List<(int Lo, int Hi)> high, int lowFrom, int lowTo)
        {
            if (!first)
            {
                Sb.Append('|');
            }

            first = false;
            Bmp(high);
            Bmp([(lowFrom, lowTo)]);
        }

        private void Bmp(List<(int Lo, int Hi)> set)
        {
            if (set.Count == 0)
            {
                Sb.Append(@"[^\u0000-\uFFFF]");
                return;
            }

            if (set.Count == 1 && set[0].Lo == set[0].Hi)
            {
                Char(set[0].Lo);
                return;
            }

            Sb.Append('[');
            foreach (var (lo, hi) in set)
            {
                Char(lo);
                if (hi != lo)
                {
                    Sb.Append('-');
                    Char(hi);
                }
            }

            Sb.Append(']');
        }

        private void Char(int c)
        {
            if (c < 0x80 && char.IsAsciiLetterOrDigit((char)c))
            {
                Sb.Append((char)c);
            }
            else
            {
                Sb.Append(@"\u").Append(c.ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        protected override void PrintAssert(AssertKind kind) => Sb.Append(kind switch
        {
            AssertKind.BeginText => @"\A",
            AssertKind.EndText => @"\z",
            AssertKind.BeginLine => "(?m:^)",
            AssertKind.EndLine => "(?m:$)",
            AssertKind.WordBoundary => @"\b",
            _ => @"\B",
        });
    }
}
