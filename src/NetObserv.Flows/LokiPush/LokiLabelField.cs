namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Copies one NetObserv field, named as flowlogs-pipeline names it in a stream label, from a record built
/// from the stream labels into a record read from the line, unless the line already has it. Absent means
/// null, or 0 for the fields the record keeps as plain numbers (times, <c>Bytes</c>, <c>Packets</c>). The
/// fields and their accessors are those of <see cref="FlowFields"/>.
/// </summary>
internal static class LokiLabelField
{
    internal enum Outcome
    {
        /// <summary>Not a flow field (<c>app</c>, for instance): ignored.</summary>
        Unknown,

        /// <summary>The line lacked the field; it now holds the label's value.</summary>
        Filled,

        /// <summary>The line has the field; the line wins.</summary>
        Present,
    }

    /// <summary>True when <paramref name="name"/> is a flow field this class can fill.</summary>
    public static bool IsFlowField(string name) => FlowFields.IsKnown(name);

    public static Outcome FillIfAbsent(FlowRecord from, FlowRecord to, string name)
    {
        if (!FlowFields.TryGet(name, out var field))
        {
            return Outcome.Unknown;
        }

        if (field.IsPresent(to))
        {
            return Outcome.Present;
        }

        field.Copy(from, to);
        return Outcome.Filled;
    }
}
