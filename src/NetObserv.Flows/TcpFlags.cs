namespace NetObserv.Flows;

/// <summary>
/// TCP flag bits as the eBPF agent reports them, and their names as flowlogs-pipeline's
/// <c>decode_tcp_flags</c> writes them into the JSON <c>Flags</c> field.
/// </summary>
public static class TcpFlags
{
    private static readonly (int Bit, string Name)[] s_names =
    [
        (1, "FIN"), (2, "SYN"), (4, "RST"), (8, "PSH"), (16, "ACK"), (32, "URG"), (64, "ECE"), (128, "CWR"),
        (256, "SYN_ACK"), (512, "FIN_ACK"), (1024, "RST_ACK"),
    ];

    /// <summary>The names of the bits set in <paramref name="flags"/>, lowest bit first.</summary>
    public static string[] ToNames(int flags)
    {
        var count = 0;
        foreach (var (bit, _) in s_names)
        {
            if ((flags & bit) != 0)
            {
                count++;
            }
        }

        var names = new string[count];
        var i = 0;
        foreach (var (bit, name) in s_names)
        {
            if ((flags & bit) != 0)
            {
                names[i++] = name;
            }
        }

        return names;
    }

    /// <summary>The bit for a flag name, or 0 when the name is unknown.</summary>
    public static int FromName(string name)
    {
        foreach (var (bit, known) in s_names)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return bit;
            }
        }

        return 0;
    }
}
