using System.Globalization;

namespace NetObserv.Benchmarks.Ingest;

/// <summary>Samples a process's resident set from /proc four times a second and keeps the peak.</summary>
internal sealed class RssSampler : IDisposable
{
    private readonly int _pid;
    private readonly Timer _timer;
    private double _peak;
    private double _current;

    public RssSampler(int pid)
    {
        _pid = pid;
        _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));
    }

    public double CurrentMiB => Volatile.Read(ref _current);

    /// <summary>The larger of the sampled peak and the kernel's high-water mark (VmHWM).</summary>
    public double PeakMiB => Math.Max(Volatile.Read(ref _peak), ReadKiB("VmHWM:") / 1024.0);

    public void Dispose() => _timer.Dispose();

    private void Sample()
    {
        var mib = ReadKiB("VmRSS:") / 1024.0;
        Volatile.Write(ref _current, mib);
        if (mib > _peak)
        {
            Volatile.Write(ref _peak, mib);
        }
    }

    private long ReadKiB(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
