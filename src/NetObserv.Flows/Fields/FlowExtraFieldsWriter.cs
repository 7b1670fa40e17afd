using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NetObserv.Flows.Validation;

namespace NetObserv.Flows.Fields;

/// <summary>
/// Builds <see cref="FlowRecord.ExtraFields"/>: the fields a sender sent that have no column, as the text
/// of one compact JSON object, bounded against hostile input. A field is dropped (and counted in
/// <see cref="Dropped"/>), the others kept, when its value nests deeper than <see cref="MaxDepth"/>, holds a
/// number that is not a finite double or is written with more than <see cref="MaxNumberLength"/>
/// characters, holds text that is not valid UTF-16, or would make the object longer than
/// <see cref="FlowLimits.ExtraFieldsBytes"/> bytes. NUL characters (which PostgreSQL cannot store) become
/// U+FFFD, in names and values. The first field of a name wins; later ones are ignored (not counted).
/// </summary>
public sealed class FlowExtraFieldsWriter : IDisposable
{
    /// <summary>The deepest nesting of objects and arrays kept inside one field's value.</summary>
    public const int MaxDepth = 16;

    /// <summary>The longest number, as written in JSON, kept.</summary>
    public const int MaxNumberLength = 40;

    private static readonly JsonWriterOptions s_options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    private readonly int _maxBytes;
    private readonly ArrayBufferWriter<byte> _fields = new(256);
    private readonly ArrayBufferWriter<byte> _scratch = new(128);
    private readonly Utf8JsonWriter _writer;
    private HashSet<string>? _names;

    public FlowExtraFieldsWriter(int maxBytes = FlowLimits.ExtraFieldsBytes)
    {
        _maxBytes = maxBytes;
        _writer = new Utf8JsonWriter(_scratch, s_options);
    }

    /// <summary>Fields kept so far.</summary>
    public int Count { get; private set; }

    /// <summary>Fields dropped so far (too deep, a bad number or text, or past the size bound).</summary>
    public int Dropped { get; private set; }

    /// <summary>True when a field named <paramref name="name"/> was kept (or offered and dropped).</summary>
    public bool Contains(string name) => _names?.Contains(Clean(name)) == true;

    /// <summary>Adds a field read from JSON; false when it was dropped or its name was already there.</summary>
    public bool Add(string name, JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Start(name, out _) && Finish(TryWrite(value, 0));
    }

    /// <summary>Adds a text field.</summary>
    public bool AddString(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        return Start(name, out _) && Finish(TryWriteString(value));
    }

    /// <summary>Adds a number field.</summary>
    public bool AddNumber(string name, long value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Start(name, out _))
        {
            return false;
        }

        _writer.WriteNumberValue(value);
        return Finish(true);
    }

    /// <summary>Adds a boolean field.</summary>
    public bool AddBoolean(string name, bool value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Start(name, out _))
        {
            return false;
        }

        _writer.WriteBooleanValue(value);
        return Finish(true);
    }

    /// <summary>Adds a list of text.</summary>
    public bool AddStrings(string name, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(values);
        if (!Start(name, out _))
        {
            return false;
        }

        _writer.WriteStartArray();
        var ok = true;
        for (var i = 0; i < values.Count && ok; i++)
        {
            ok = TryWriteString(values[i]);
        }

        if (ok)
        {
            _writer.WriteEndArray();
        }

        return Finish(ok);
    }

    /// <summary>Adds a list of objects of text (the agent's network events), each object's keys in ordinal order.</summary>
    public bool AddObjects(string name, IReadOnlyList<IEnumerable<KeyValuePair<string, string>>> objects)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(objects);
        if (!Start(name, out _))
        {
            return false;
        }

        _writer.WriteStartArray();
        var ok = true;
        for (var i = 0; i < objects.Count && ok; i++)
        {
            _writer.WriteStartObject();
            foreach (var (key, value) in objects[i].OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (!(ok = TryWritePropertyName(key) && TryWriteString(value)))
                {
                    break;
                }
            }

            if (ok)
            {
                _writer.WriteEndObject();
            }
        }

        if (ok)
        {
            _writer.WriteEndArray();
        }

        return Finish(ok);
    }

    /// <summary>The JSON object text, or null when no field was kept.</summary>
    public string? Build()
    {
        if (Count == 0)
        {
            return null;
        }

        var fields = _fields.WrittenSpan;
        return string.Create(Encoding.UTF8.GetCharCount(fields) + 2, this, static (chars, writer) =>
        {
            chars[0] = '{';
            Encoding.UTF8.GetChars(writer._fields.WrittenSpan, chars[1..^1]);
            chars[^1] = '}';
        });
    }

    /// <summary>Forgets every field, so one writer can build the extra fields of many records in turn.</summary>
    public void Reset()
    {
        _fields.Clear();
        _scratch.Clear();
        _names?.Clear();
        Count = 0;
        Dropped = 0;
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>Opens the scratch object with the field's name; false when the name is already there.</summary>
    private bool Start(string name, out string clean)
    {
        clean = Clean(name);
        _names ??= new HashSet<string>(StringComparer.Ordinal);
        if (!_names.Add(clean))
        {
            return false;
        }

        _scratch.Clear();
        _writer.Reset(_scratch);
        _writer.WriteStartObject();
        if (!TryWritePropertyName(clean))
        {
            Dropped++;
            return false;
        }

        return true;
    }

    /// <summary>Appends the scratch field when it was written whole and fits; counts a drop otherwise.</summary>
    private bool Finish(bool written)
    {
        if (written)
        {
            _writer.WriteEndObject();
            _writer.Flush();

            // The scratch holds {"name":value}: the field is what lies between the braces.
            var field = _scratch.WrittenSpan[1..^1];
            var separator = Count == 0 ? 0 : 1;
            if (_fields.WrittenCount + separator + field.Length + 2 <= _maxBytes)
            {
                if (separator == 1)
                {
                    _fields.Write(","u8);
                }

                _fields.Write(field);
                Count++;
                return true;
            }
        }

        Dropped++;
        return false;
    }

    private bool TryWrite(JsonElement value, int depth)
    {
        try
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    if (depth >= MaxDepth)
                    {
                        return false;
                    }

                    _writer.WriteStartObject();
                    foreach (var property in value.EnumerateObject())
                    {
                        if (!TryWritePropertyName(property.Name) || !TryWrite(property.Value, depth + 1))
                        {
                            return false;
                        }
                    }

                    _writer.WriteEndObject();
                    return true;
                case JsonValueKind.Array:
                    if (depth >= MaxDepth)
                    {
                        return false;
                    }

                    _writer.WriteStartArray();
                    foreach (var item in value.EnumerateArray())
                    {
                        if (!TryWrite(item, depth + 1))
                        {
                            return false;
                        }
                    }

                    _writer.WriteEndArray();
                    return true;
                case JsonValueKind.String:
                    return TryWriteString(value.GetString()!);
                case JsonValueKind.Number:
                    var raw = value.GetRawText();
                    if (raw.Length > MaxNumberLength
                        || !double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                        || !double.IsFinite(number))
                    {
                        return false;
                    }

                    _writer.WriteRawValue(raw, skipInputValidation: true);
                    return true;
                case JsonValueKind.True or JsonValueKind.False:
                    _writer.WriteBooleanValue(value.ValueKind == JsonValueKind.True);
                    return true;
                default:
                    _writer.WriteNullValue();
                    return true;
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // Text that cannot be transcoded (an unpaired surrogate escape).
            return false;
        }
    }

    private bool TryWriteString(string value)
    {
        try
        {
            _writer.WriteStringValue(Clean(value));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private bool TryWritePropertyName(string name)
    {
        try
        {
            _writer.WritePropertyName(Clean(name));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Clean(string text) =>
        text.Contains('\0', StringComparison.Ordinal) ? text.Replace('\0', '\uFFFD') : text;
}
