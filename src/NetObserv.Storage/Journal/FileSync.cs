using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NetObserv.Storage.Journal;

/// <summary>
/// Makes what was written to a file durable. On Linux an append is synced with <c>fdatasync</c>: the data and
/// the metadata needed to read it back (the file size) reach the disk, not the timestamps, which saves a
/// journal commit of the file system per call (about half the latency of <c>fsync</c> measured on ext4). A
/// file just created is synced once with <c>fsync</c>, and its folder with <see cref="Folder"/> so the new
/// directory entry is durable on any file system. Elsewhere, <see cref="FileStream.Flush(bool)"/>.
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

    /// <summary>
    /// Syncs the folder <paramref name="path"/> itself (<c>fsync</c> of the directory on Linux), so that files
    /// created or removed in it are found after a crash of the machine. Nothing to do elsewhere.
    /// </summary>
    public static void Folder(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // O_RDONLY | O_CLOEXEC (the same values on every Linux architecture; O_DIRECTORY is not).
        const int readOnlyCloseOnExec = 0x80000;
        var fd = NativeMethods.Open(path, readOnlyCloseOnExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot open folder {path} to sync it: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (NativeMethods.FSync(handle) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fsync of folder {path} failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false,
            ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint Open(string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int FSync(SafeFileHandle fd);

        // DllImport rather than LibraryImport: the source-generated stub needs unsafe code in this project.
        [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int FDataSync(SafeFileHandle fd);
    }
}
