using System.Globalization;
using System.Text.Json;

namespace NetObserv.Storage.LocalPostgres;

/// <summary>
/// Who runs the managed server of a data folder: <c>&lt;data folder&gt;/netobserv.owner</c>, a small JSON file
/// written when this process starts (or restarts) the server and removed when it stops it. It holds our PID and
/// its start time (so a reused PID is not mistaken for us), the postmaster's PID, the port and the data folder.
/// After a crash of the owner the file stays behind, and the next start knows the server it finds is a leftover
/// to stop, not another live process's server to share.
/// </summary>
internal sealed record ManagedPostgresOwner(int OwnerPid, long OwnerStartTime, int PostgresPid, int Port, string DataDirectory)
{
    /// <summary>The file name inside the data folder (PostgreSQL ignores files it does not know there).</summary>
    public const string FileName = "netobserv.owner";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>The record for this process.</summary>
    public static ManagedPostgresOwner ForThisProcess(int postgresPid, int port, string dataDirectory) =>
        new(Environment.ProcessId, StartTimeOf(Environment.ProcessId) ?? 0, postgresPid, port, dataDirectory);

    /// <summary>The record in <paramref name="dataDirectory"/>, or null when there is none (or it cannot be read).</summary>
    public static ManagedPostgresOwner? Read(string dataDirectory)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(dataDirectory, FileName));
            return JsonSerializer.Deserialize<ManagedPostgresOwner>(text, s_json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes the record (0600) into its data folder.</summary>
    public void Write()
    {
        var path = Path.Combine(DataDirectory, FileName);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, this, s_json);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes the record of <paramref name="dataDirectory"/> if it is there.</summary>
    public static void Delete(string dataDirectory)
    {
        try
        {
            File.Delete(Path.Combine(dataDirectory, FileName));
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>True when the recorded owner (this process or another) is still running: same PID, same start time.</summary>
    public bool OwnerIsAlive => StartTimeOf(OwnerPid) is { } started && started == OwnerStartTime;

    /// <summary>
    /// The start time of process <paramref name="pid"/> in clock ticks after boot (<c>/proc/&lt;pid&gt;/stat</c>,
    /// field 22), or null when no such process runs.
    /// </summary>
    public static long? StartTimeOf(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }

        try
        {
            var stat = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");

            // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && fields[0] != "Z"
                ? ticks
                : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
