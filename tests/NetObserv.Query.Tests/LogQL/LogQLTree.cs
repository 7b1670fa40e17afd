using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace NetObserv.Query.Tests.LogQL;

/// <summary>
/// A syntax tree written out with every property but positions, by reflection (not by the formatter under
/// test): two trees that differ only in where their tokens were have the same dump.
/// </summary>
internal static class LogQLTree
{
    public static string Dump(object? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                return;
            case string s:
                sb.Append('"').Append(s.Replace("\\", "\\\\", StringComparison.Ordinal)
                    .Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
                return;
            case double d:
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return;
            case Enum or bool or int or TimeSpan:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
            case IEnumerable items:
                sb.Append('[');
                foreach (var item in items)
                {
                    Write(sb, item);
                    sb.Append(", ");
                }

                sb.Append(']');
                return;
        }

        var type = value.GetType();
        sb.Append(type.Name).Append('(');
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.Name != "Position")
            {
                sb.Append(property.Name).Append('=');
                Write(sb, property.GetValue(value));
                sb.Append(' ');
            }
        }

        sb.Append(')');
    }
}
