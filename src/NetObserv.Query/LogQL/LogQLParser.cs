using System.Globalization;

namespace NetObserv.Query.LogQL;

/// <summary>
/// Recursive-descent parser for the LogQL subset we serve (see docs/logql.md). Errors and
/// unsupported constructs throw <see cref="LogQLParseException"/> with the line and column.
/// </summary>
/// <remarks>
/// Nesting is bounded by <see cref="MaxDepth"/> in two ways, so that neither this parser nor any recursive
/// walk of the tree (formatter, planner, evaluator, SQL of label filters, record equality) can overflow the
/// stack, whatever the size of the query: at most that many parentheses, aggregation calls and signs may be
/// open at any point of the text (the parser recurses only into these), and the tree may be at most that
/// deep, counting one level per arithmetic operator, vector or range aggregation and label filter
/// <c>and</c>/<c>or</c> (so a chain <c>1+1+...</c> or <c>a="1" or a="2" or ...</c>, which the parser reads in
/// a loop but which becomes a left-leaning tree, is bounded too). Printing a tree with
/// <see cref="LogQLFormatter"/> opens at most one parenthesis per tree level, so what it prints parses again.
/// </remarks>
internal sealed class LogQLParser
{
    /// <summary>
    /// Most levels of nesting in a query: open parentheses, aggregation calls and signs at any point, and
    /// the depth of the tree in operators and aggregations. Deeper is a parse error at the token that opens
    /// the level past it.
    /// </summary>
    public const int MaxDepth = 256;

    private static readonly Dictionary<string, RangeOperator> s_rangeOps = new(StringComparer.Ordinal)
    {
        ["rate"] = RangeOperator.Rate,
        ["count_over_time"] = RangeOperator.CountOverTime,
        ["bytes_over_time"] = RangeOperator.BytesOverTime,
        ["bytes_rate"] = RangeOperator.BytesRate,
        ["sum_over_time"] = RangeOperator.SumOverTime,
        ["avg_over_time"] = RangeOperator.AvgOverTime,
        ["max_over_time"] = RangeOperator.MaxOverTime,
        ["min_over_time"] = RangeOperator.MinOverTime,
        ["quantile_over_time"] = RangeOperator.QuantileOverTime,
        ["stddev_over_time"] = RangeOperator.StddevOverTime,
        ["stdvar_over_time"] = RangeOperator.StdvarOverTime,
        ["first_over_time"] = RangeOperator.FirstOverTime,
        ["last_over_time"] = RangeOperator.LastOverTime,
    };

    private static readonly Dictionary<string, VectorOperator> s_vectorOps = new(StringComparer.Ordinal)
    {
        ["sum"] = VectorOperator.Sum,
        ["avg"] = VectorOperator.Avg,
        ["min"] = VectorOperator.Min,
        ["max"] = VectorOperator.Max,
        ["count"] = VectorOperator.Count,
        ["topk"] = VectorOperator.TopK,
        ["bottomk"] = VectorOperator.BottomK,
    };

    // Constructs of full LogQL we recognise in order to name them in the error.
    private static readonly HashSet<string> s_unsupportedFunctions = new(StringComparer.Ordinal)
    {
        "absent_over_time", "rate_counter", "stddev", "stdvar", "sort", "sort_desc", "approx_topk",
        "label_replace", "count_values",
    };

    private static readonly HashSet<string> s_unsupportedStages = new(StringComparer.Ordinal)
    {
        "logfmt", "regexp", "pattern", "unpack", "line_format", "label_format", "keep", "decolorize",
    };

    private readonly string _text;
    private readonly LogQLLexer _lexer;

    // The tree depth of each operator and aggregation node built so far (leaves are 0).
    private readonly Dictionary<object, int> _depths = new(ReferenceEqualityComparer.Instance);
    private LogQLToken _current;
    private LogQLToken? _next;

    // Parentheses, aggregation calls and signs open at the current token.
    private int _nesting;

    private LogQLParser(string text)
    {
        _text = text;
        _lexer = new LogQLLexer(text);
        _current = _lexer.Next();
    }

    /// <summary>Parses a whole query.</summary>
    public static LogQLExpr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new LogQLParser(text);
        if (parser.Current.Kind == LogQLTokenKind.End)
        {
            throw LogQLParseException.At(text, 0, "syntax error: empty query");
        }

        var expr = parser.ParseExpression(0);
        if (parser.Current.Kind != LogQLTokenKind.End)
        {
            throw parser.Unexpected("end of query");
        }

        return expr;
    }

    /// <summary>Parses a stream selector with an optional pipeline (the <c>query</c> of metadata endpoints).</summary>
    public static LogQuery ParseSelector(string text)
    {
        var expr = Parse(text);
        return expr as LogQuery
            ?? throw LogQLParseException.At(text, expr.Position, "syntax error: expecting a stream selector");
    }

    private LogQLToken Current => _current;

    // Tokens are read when needed, so the first error in the text is the one reported.
    private LogQLToken Peek() => _next ??= _lexer.Next();

    /// <summary>Moves to the next token (never past the end) and returns the one it leaves.</summary>
    private LogQLToken Advance()
    {
        var token = _current;
        if (token.Kind != LogQLTokenKind.End)
        {
            _current = _next ?? _lexer.Next();
            _next = null;
        }

        return token;
    }

    private bool IsIdentifier(string word) => Current.Kind == LogQLTokenKind.Identifier && Current.Text == word;

    private LogQLParseException Error(int position, string message) => LogQLParseException.At(_text, position, message);

    private LogQLParseException Unexpected(string expecting) =>
        Error(Current.Position, $"syntax error: unexpected {Current.Describe()}, expecting {expecting}");

    private LogQLParseException TooDeep(int position) => Error(position,
        $"syntax error: more than {MaxDepth} levels of nesting (each parenthesis, aggregation, sign and operator adds one)");

    /// <summary>Opens a parenthesis, aggregation call or sign at <paramref name="position"/>.</summary>
    private void Enter(int position)
    {
        if (++_nesting > MaxDepth)
        {
            throw TooDeep(position);
        }
    }

    private void Leave() => _nesting--;

    /// <summary>Records the depth of an operator or aggregation node whose deepest child is <paramref name="childDepth"/> deep.</summary>
    private T Node<T>(T node, int childDepth, int position)
        where T : notnull
    {
        var depth = childDepth + 1;
        if (depth > MaxDepth)
        {
            throw TooDeep(position);
        }

        _depths[node] = depth;
        return node;
    }

    private int Depth(object node)
    {
        if (node is LogQuery log)
        {
            var depth = 0;
            foreach (var stage in log.Stages)
            {
                if (stage is LabelFilterStage filter)
                {
                    depth = Math.Max(depth, Depth(filter.Filter));
                }
            }

            return depth;
        }

        return _depths.GetValueOrDefault(node);
    }

    private LogQLToken Expect(LogQLTokenKind kind, string what)
    {
        if (Current.Kind != kind)
        {
            throw Unexpected(what);
        }

        return Advance();
    }

    // Binary operators by precedence: + - (1), * / % (2).
    private static int Precedence(LogQLTokenKind kind) => kind switch
    {
        LogQLTokenKind.Plus or LogQLTokenKind.Minus => 1,
        LogQLTokenKind.Star or LogQLTokenKind.Slash or LogQLTokenKind.Percent => 2,
        _ => 0,
    };

    private LogQLExpr ParseExpression(int minPrecedence)
    {
        var left = ParseUnary();
        while (true)
        {
            var token = Current;
            if (token.Kind is LogQLTokenKind.Caret or LogQLTokenKind.DoubleEqual or LogQLTokenKind.Greater
                or LogQLTokenKind.GreaterOrEqual or LogQLTokenKind.Less or LogQLTokenKind.LessOrEqual
                || (token.Kind == LogQLTokenKind.Identifier && token.Text is "and" or "or" or "unless"))
            {
                throw Error(token.Position, $"unsupported construct: binary operator '{token.Text}'");
            }

            var precedence = Precedence(token.Kind);
            if (precedence == 0 || precedence < minPrecedence)
            {
                return left;
            }

            Advance();
            if (IsIdentifier("bool") || IsIdentifier("on") || IsIdentifier("ignoring"))
            {
                throw Error(Current.Position, $"unsupported construct: '{Current.Text}' modifier");
            }

            var right = ParseExpression(precedence + 1);
            var op = token.Kind switch
            {
                LogQLTokenKind.Plus => BinaryOperator.Add,
                LogQLTokenKind.Minus => BinaryOperator.Subtract,
                LogQLTokenKind.Star => BinaryOperator.Multiply,
                LogQLTokenKind.Slash => BinaryOperator.Divide,
                _ => BinaryOperator.Modulo,
            };
            CheckArithmeticOperand(left);
            CheckArithmeticOperand(right);
            left = Node(new BinaryOperation(op, left, right, token.Position), Math.Max(Depth(left), Depth(right)),
                token.Position);
        }
    }

    private void CheckArithmeticOperand(LogQLExpr expr)
    {
        if (expr is LogQuery)
        {
            throw Error(expr.Position, "syntax error: a log query cannot be an operand of arithmetic");
        }
    }

    private LogQLExpr ParseUnary()
    {
        if (Current.Kind is LogQLTokenKind.Minus or LogQLTokenKind.Plus)
        {
            var sign = Advance();
            LogQLExpr operand;
            if (Current.Kind == LogQLTokenKind.Number)
            {
                // A signed number (what the formatter prints for a negative one) opens no level.
                operand = ParsePrimary();
            }
            else
            {
                Enter(sign.Position);
                operand = ParseUnary();
                Leave();
                CheckArithmeticOperand(operand);
            }

            if (sign.Kind == LogQLTokenKind.Plus)
            {
                return operand;
            }

            return operand is NumberLiteral n
                ? new NumberLiteral(-n.Value, sign.Position)
                : Node(new BinaryOperation(BinaryOperator.Subtract, new NumberLiteral(0, sign.Position), operand,
                    sign.Position), Depth(operand), sign.Position);
        }

        return ParsePrimary();
    }

    private LogQLExpr ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case LogQLTokenKind.OpenParen:
                Enter(token.Position);
                Advance();
                var inner = ParseExpression(0);
                Expect(LogQLTokenKind.CloseParen, "')'");
                Leave();
                if (Current.Kind == LogQLTokenKind.Range)
                {
                    throw Error(Current.Position, "unsupported construct: range after a parenthesised expression");
                }

                return inner;
            case LogQLTokenKind.Number:
                Advance();
                return new NumberLiteral(ParseNumber(token), token.Position);
            case LogQLTokenKind.OpenBrace:
                return ParseLogQuery();
            case LogQLTokenKind.Identifier:
                if (s_rangeOps.TryGetValue(token.Text, out var rangeOp))
                {
                    return ParseRangeAggregation(rangeOp);
                }

                if (s_vectorOps.TryGetValue(token.Text, out var vectorOp))
                {
                    return ParseVectorAggregation(vectorOp);
                }

                if (token.Text == "vector")
                {
                    Advance();
                    Expect(LogQLTokenKind.OpenParen, "'('");
                    var sign = 1.0;
                    if (Current.Kind == LogQLTokenKind.Minus)
                    {
                        Advance();
                        sign = -1;
                    }

                    var number = Expect(LogQLTokenKind.Number, "a number");
                    Expect(LogQLTokenKind.CloseParen, "')'");
                    return new VectorLiteral(sign * ParseNumber(number), token.Position);
                }

                if (s_unsupportedFunctions.Contains(token.Text))
                {
                    throw Error(token.Position, $"unsupported construct: {token.Text}");
                }

                throw Error(token.Position, $"syntax error: unexpected {token.Describe()}");
            default:
                throw Unexpected("a stream selector, an aggregation or a number");
        }
    }

    private double ParseNumber(LogQLToken token)
    {
        if (double.TryParse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        if (token.Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && long.TryParse(token.Text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
        {
            return hex;
        }

        throw Error(token.Position, $"syntax error: '{token.Text}' is not a number");
    }

    private LogQuery ParseLogQuery()
    {
        var open = Expect(LogQLTokenKind.OpenBrace, "'{'");
        var matchers = new List<StreamMatcher>();
        while (Current.Kind != LogQLTokenKind.CloseBrace)
        {
            var name = Expect(LogQLTokenKind.Identifier, "a label name");
            var op = Current.Kind switch
            {
                LogQLTokenKind.Equal => MatchOperator.Equal,
                LogQLTokenKind.NotEqual => MatchOperator.NotEqual,
                LogQLTokenKind.RegexMatch => MatchOperator.Regex,
                LogQLTokenKind.RegexNotMatch => MatchOperator.NotRegex,
                _ => throw Unexpected("= or != or =~ or !~"),
            };
            Advance();
            var value = Expect(LogQLTokenKind.String, "a quoted string");
            if (op is MatchOperator.Regex or MatchOperator.NotRegex)
            {
                CheckRegex(value);
            }

            matchers.Add(new StreamMatcher(name.Text, op, value.Text, name.Position));
            if (Current.Kind == LogQLTokenKind.Comma)
            {
                Advance();
                continue;
            }

            if (Current.Kind != LogQLTokenKind.CloseBrace)
            {
                throw Unexpected("',' or '}'");
            }
        }

        Advance();
        if (matchers.Count == 0)
        {
            throw Error(open.Position, "syntax error: unexpected '}', expecting a label matcher");
        }

        return new LogQuery(matchers, ParsePipeline(), open.Position);
    }

    private void CheckRegex(LogQLToken value)
    {
        try
        {
            _ = Re2Regex.Parse(value.Text);
        }
        catch (Re2Exception ex)
        {
            throw Error(value.Position, $"invalid regular expression \"{value.Text}\": {ex.Message}");
        }
    }

    private List<PipelineStage> ParsePipeline()
    {
        var stages = new List<PipelineStage>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case LogQLTokenKind.PipeEqual or LogQLTokenKind.NotEqual or LogQLTokenKind.PipeMatch
                    or LogQLTokenKind.RegexNotMatch:
                    stages.Add(ParseLineFilter());
                    break;
                case LogQLTokenKind.PipeGreater or LogQLTokenKind.NotGreater:
                    throw Error(token.Position, $"unsupported construct: pattern line filter '{token.Text}'");
                case LogQLTokenKind.Pipe:
                    Advance();
                    stages.Add(ParseStage(token.Position));
                    break;
                default:
                    return stages;
            }
        }
    }

    private LineFilterStage ParseLineFilter()
    {
        var token = Advance();
        var op = token.Kind switch
        {
            LogQLTokenKind.PipeEqual => LineFilterOperator.Contains,
            LogQLTokenKind.NotEqual => LineFilterOperator.NotContains,
            LogQLTokenKind.PipeMatch => LineFilterOperator.Matches,
            _ => LineFilterOperator.NotMatches,
        };
        var values = new List<string>();
        while (true)
        {
            if (IsIdentifier("ip"))
            {
                throw Error(Current.Position, "unsupported construct: ip() line filter");
            }

            var value = Expect(LogQLTokenKind.String, "a quoted string");
            if (op is LineFilterOperator.Matches or LineFilterOperator.NotMatches)
            {
                CheckRegex(value);
            }

            values.Add(value.Text);
            if (IsIdentifier("or") && Peek().Kind == LogQLTokenKind.String)
            {
                Advance();
                continue;
            }

            return new LineFilterStage(op, values, token.Position);
        }
    }

    private PipelineStage ParseStage(int pipePosition)
    {
        var token = Current;
        if (token.Kind == LogQLTokenKind.Identifier)
        {
            switch (token.Text)
            {
                case "json":
                    Advance();
                    if (Current.Kind == LogQLTokenKind.Identifier && Peek().Kind == LogQLTokenKind.Equal)
                    {
                        throw Error(Current.Position, "unsupported construct: json with extraction expressions");
                    }

                    return new JsonStage(pipePosition);
                case "drop":
                    Advance();
                    var labels = new List<string>();
                    do
                    {
                        if (labels.Count > 0)
                        {
                            Advance();
                        }

                        var name = Expect(LogQLTokenKind.Identifier, "a label name");
                        if (Current.Kind is LogQLTokenKind.Equal or LogQLTokenKind.NotEqual
                            or LogQLTokenKind.RegexMatch or LogQLTokenKind.RegexNotMatch)
                        {
                            throw Error(Current.Position, "unsupported construct: drop with a matcher");
                        }

                        labels.Add(name.Text);
                    }
                    while (Current.Kind == LogQLTokenKind.Comma);

                    return new DropStage(labels, pipePosition);
                case "unwrap":
                    Advance();
                    var field = Expect(LogQLTokenKind.Identifier, "a label name");
                    if (Current.Kind == LogQLTokenKind.OpenParen)
                    {
                        throw Error(field.Position, $"unsupported construct: unwrap conversion {field.Text}()");
                    }

                    return new UnwrapStage(field.Text, pipePosition);
            }

            if (s_unsupportedStages.Contains(token.Text)
                && !(Peek().Kind is LogQLTokenKind.Equal or LogQLTokenKind.NotEqual or LogQLTokenKind.RegexMatch
                    or LogQLTokenKind.RegexNotMatch or LogQLTokenKind.DoubleEqual or LogQLTokenKind.Greater
                    or LogQLTokenKind.GreaterOrEqual or LogQLTokenKind.Less or LogQLTokenKind.LessOrEqual))
            {
                throw Error(token.Position, $"unsupported construct: | {token.Text}");
            }
        }

        if (token.Kind is LogQLTokenKind.Identifier or LogQLTokenKind.OpenParen)
        {
            return new LabelFilterStage(ParseLabelOr(), pipePosition);
        }

        throw Unexpected("a parser, a label filter, drop or unwrap");
    }

    private LabelFilter ParseLabelOr()
    {
        var left = ParseLabelAnd();
        while (IsIdentifier("or"))
        {
            var or = Advance();
            var right = ParseLabelAnd();
            left = Node(new OrLabelFilter(left, right, or.Position), Math.Max(Depth(left), Depth(right)), or.Position);
        }

        return left;
    }

    private LabelFilter ParseLabelAnd()
    {
        var left = ParseLabelPrimary();
        while (true)
        {
            int position;
            if (IsIdentifier("and") || Current.Kind == LogQLTokenKind.Comma)
            {
                position = Advance().Position;
            }
            else if ((Current.Kind == LogQLTokenKind.Identifier && Current.Text is not "or"
                    && Peek().Kind is not (LogQLTokenKind.OpenParen or LogQLTokenKind.End))
                || Current.Kind == LogQLTokenKind.OpenParen)
            {
                // Juxtaposed filters mean "and".
                position = Current.Position;
            }
            else
            {
                return left;
            }

            var right = ParseLabelPrimary();
            left = Node(new AndLabelFilter(left, right, position), Math.Max(Depth(left), Depth(right)), position);
        }
    }

    private LabelFilter ParseLabelPrimary()
    {
        if (Current.Kind == LogQLTokenKind.OpenParen)
        {
            Enter(Current.Position);
            Advance();
            var inner = ParseLabelOr();
            Expect(LogQLTokenKind.CloseParen, "')'");
            Leave();
            return inner;
        }

        var name = Expect(LogQLTokenKind.Identifier, "a label name");
        if (Current.Kind is not (LogQLTokenKind.Equal or LogQLTokenKind.NotEqual or LogQLTokenKind.RegexMatch
            or LogQLTokenKind.RegexNotMatch or LogQLTokenKind.DoubleEqual or LogQLTokenKind.Greater
            or LogQLTokenKind.GreaterOrEqual or LogQLTokenKind.Less or LogQLTokenKind.LessOrEqual))
        {
            throw Unexpected("a label filter operator");
        }

        var opToken = Advance();
        var value = Current;
        if (value.Kind == LogQLTokenKind.Identifier && value.Text == "ip")
        {
            if (opToken.Kind is not (LogQLTokenKind.Equal or LogQLTokenKind.NotEqual))
            {
                throw Error(opToken.Position, $"syntax error: ip() takes = or !=, not '{opToken.Text}'");
            }

            Advance();
            Expect(LogQLTokenKind.OpenParen, "'('");
            var address = Expect(LogQLTokenKind.String, "a quoted address, CIDR or range");
            Expect(LogQLTokenKind.CloseParen, "')'");
            if (IpFilterValue.Parse(address.Text) is null)
            {
                throw Error(address.Position,
                    $"invalid ip() value \"{address.Text}\": expecting an address, a CIDR prefix (10.0.0.0/8) or a range (10.0.0.1-10.0.0.9)");
            }

            return new IpLabelFilter(name.Text, opToken.Kind == LogQLTokenKind.Equal, address.Text, name.Position);
        }

        if (value.Kind == LogQLTokenKind.String)
        {
            Advance();
            var op = opToken.Kind switch
            {
                LogQLTokenKind.Equal or LogQLTokenKind.DoubleEqual => MatchOperator.Equal,
                LogQLTokenKind.NotEqual => MatchOperator.NotEqual,
                LogQLTokenKind.RegexMatch => MatchOperator.Regex,
                LogQLTokenKind.RegexNotMatch => MatchOperator.NotRegex,
                _ => throw Error(opToken.Position,
                    $"syntax error: operator '{opToken.Text}' needs a number, not a string"),
            };
            if (op is MatchOperator.Regex or MatchOperator.NotRegex)
            {
                CheckRegex(value);
            }

            return new StringLabelFilter(name.Text, op, value.Text, name.Position);
        }

        var negative = false;
        if (value.Kind == LogQLTokenKind.Minus)
        {
            Advance();
            negative = true;
            value = Current;
        }

        if (value.Kind == LogQLTokenKind.Number)
        {
            Advance();
            if (!double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                throw Error(value.Position,
                    $"unsupported construct: duration or byte-size literal '{value.Text}' in a label filter");
            }

            var cmp = opToken.Kind switch
            {
                LogQLTokenKind.Equal or LogQLTokenKind.DoubleEqual => CompareOperator.Equal,
                LogQLTokenKind.NotEqual => CompareOperator.NotEqual,
                LogQLTokenKind.Greater => CompareOperator.Greater,
                LogQLTokenKind.GreaterOrEqual => CompareOperator.GreaterOrEqual,
                LogQLTokenKind.Less => CompareOperator.Less,
                LogQLTokenKind.LessOrEqual => CompareOperator.LessOrEqual,
                _ => throw Error(opToken.Position,
                    $"syntax error: operator '{opToken.Text}' needs a string, not a number"),
            };
            return new NumericLabelFilter(name.Text, cmp, negative ? -number : number, name.Position);
        }

        throw Unexpected("a quoted string or a number");
    }

    private RangeAggregation ParseRangeAggregation(RangeOperator op)
    {
        var name = Advance();
        Enter(name.Position);
        Expect(LogQLTokenKind.OpenParen, "'('");
        double? parameter = null;
        if (op == RangeOperator.QuantileOverTime)
        {
            var negative = Current.Kind == LogQLTokenKind.Minus;
            if (negative)
            {
                Advance();
            }

            var phi = Expect(LogQLTokenKind.Number, "a number (the quantile)");
            parameter = (negative ? -1 : 1) * ParseNumber(phi);
            Expect(LogQLTokenKind.Comma, "','");
        }

        if (Current.Kind == LogQLTokenKind.OpenParen)
        {
            throw Error(Current.Position, "unsupported construct: parenthesised log range");
        }

        if (Current.Kind != LogQLTokenKind.OpenBrace)
        {
            throw Unexpected("a stream selector");
        }

        var log = ParseLogQuery();
        if (Current.Kind != LogQLTokenKind.Range)
        {
            throw Unexpected("a range like [5m]");
        }

        var range = ParseRange(Advance());
        if (log.Stages.Count == 0)
        {
            // {sel}[5m] | pipeline: the range may come before the pipeline.
            log = log with { Stages = ParsePipeline() };
        }

        if (IsIdentifier("offset"))
        {
            throw Error(Current.Position, "unsupported construct: offset");
        }

        Expect(LogQLTokenKind.CloseParen, "')'");
        Leave();
        var unwraps = log.Stages.OfType<UnwrapStage>().ToList();
        if (unwraps.Count > 1)
        {
            throw Error(unwraps[1].Position, "syntax error: unwrap may appear once");
        }

        var needsUnwrap = op is not (RangeOperator.Rate or RangeOperator.CountOverTime or RangeOperator.BytesOverTime
            or RangeOperator.BytesRate);
        if (needsUnwrap && unwraps.Count == 0)
        {
            throw Error(name.Position, $"syntax error: {name.Text} needs an unwrap stage (| unwrap Bytes)");
        }

        if (!needsUnwrap && op is not RangeOperator.Rate && unwraps.Count > 0)
        {
            throw Error(unwraps[0].Position, $"syntax error: {name.Text} does not take an unwrap stage");
        }

        var grouping = ParseGrouping();
        return Node(new RangeAggregation(op, log, range, grouping, name.Position) { Parameter = parameter }, Depth(log),
            name.Position);
    }

    private RangeDuration ParseRange(LogQLToken token)
    {
        var text = token.Text;
        if (text.StartsWith('$'))
        {
            var variable = text.Trim('$', '{', '}');
            if (variable is "__auto" or "__interval" or "__range" or "__rate_interval")
            {
                return new RangeDuration(TimeSpan.Zero, variable);
            }

            throw Error(token.Position + 1, $"syntax error: unknown variable '{text}' in range");
        }

        if (!LogQLDuration.TryParse(text, out var duration) || duration <= TimeSpan.Zero)
        {
            throw Error(token.Position + 1, $"syntax error: invalid range duration '{text}'");
        }

        return new RangeDuration(duration, null);
    }

    private Grouping? ParseGrouping()
    {
        if (!IsIdentifier("by") && !IsIdentifier("without"))
        {
            return null;
        }

        var without = Advance().Text == "without";
        Expect(LogQLTokenKind.OpenParen, "'('");
        var labels = new List<string>();
        while (Current.Kind != LogQLTokenKind.CloseParen)
        {
            labels.Add(Expect(LogQLTokenKind.Identifier, "a label name").Text);
            if (Current.Kind == LogQLTokenKind.Comma)
            {
                Advance();
            }
            else if (Current.Kind != LogQLTokenKind.CloseParen)
            {
                throw Unexpected("',' or ')'");
            }
        }

        Advance();
        return new Grouping(without, labels);
    }

    private VectorAggregation ParseVectorAggregation(VectorOperator op)
    {
        var name = Advance();
        var grouping = ParseGrouping();
        Enter(name.Position);
        Expect(LogQLTokenKind.OpenParen, "'('");
        double? parameter = null;
        if (op is VectorOperator.TopK or VectorOperator.BottomK)
        {
            var k = Expect(LogQLTokenKind.Number, "a number (k)");
            parameter = ParseNumber(k);
            if (parameter <= 0 || parameter != Math.Floor(parameter.Value))
            {
                throw Error(k.Position, $"syntax error: {name.Text} needs a positive integer, got {k.Text}");
            }

            Expect(LogQLTokenKind.Comma, "','");
        }

        var inner = ParseExpression(0);
        if (inner is LogQuery)
        {
            throw Error(inner.Position, $"syntax error: {name.Text} needs a metric expression, not a log query");
        }

        Expect(LogQLTokenKind.CloseParen, "')'");
        Leave();
        var after = ParseGrouping();
        if (grouping is not null && after is not null)
        {
            throw Error(name.Position, "syntax error: grouping given twice");
        }

        return Node(new VectorAggregation(op, inner, grouping ?? after, parameter, name.Position), Depth(inner),
            name.Position);
    }
}
