namespace NetObserv.Flows.Enrichment;

/// <summary>An inventory file that cannot be used; <see cref="Errors"/> lists every problem with its place.</summary>
public sealed class StaticInventoryException : Exception
{
    public StaticInventoryException(string source, IReadOnlyList<string> errors)
        : base(FormatMessage(source, errors))
    {
        Origin = source;
        Errors = errors;
    }

    public StaticInventoryException()
        : this("inventory", [])
    {
    }

    public StaticInventoryException(string message)
        : this("inventory", [message])
    {
    }

    public StaticInventoryException(string message, Exception innerException)
        : base(message, innerException)
    {
        Origin = "inventory";
        Errors = [message];
    }

    /// <summary>The file (or name) the inventory came from.</summary>
    public string Origin { get; }

    /// <summary>Each problem as <c>line L: path: what is wrong</c>.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string FormatMessage(string source, IReadOnlyList<string> errors) =>
        errors.Count == 1
            ? $"Invalid inventory {source}: {errors[0]}"
            : $"Invalid inventory {source} ({errors.Count} errors):\n  " + string.Join("\n  ", errors);
}
