using NetObserv.Storage.Journal;

namespace NetObserv.Storage.Tests.Journal;

public sealed class FileSyncTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netobserv-filesync-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Data_BufferedAppends_OnDiskWithTheirSize()
    {
        var path = Path.Combine(_directory, "segment");
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        file.Write(new byte[1000]);
        file.Flush(flushToDisk: true);
        file.Write(new byte[234]);

        FileSync.Data(file);

        Assert.Equal(1234, new FileInfo(path).Length);
        file.Write(new byte[6]);
        FileSync.Data(file);
        Assert.Equal(1240, new FileInfo(path).Length);
    }

    [Fact]
    public void Data_DisposedFile_Throws()
    {
        var path = Path.Combine(_directory, "closed");
        File.WriteAllBytes(path, [1, 2, 3]);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read);
        file.Dispose();

        Assert.Throws<ObjectDisposedException>(() => FileSync.Data(file));
    }

    [Fact]
    public void Folder_ExistingFolder_Syncs()
    {
        File.WriteAllBytes(Path.Combine(_directory, "new-segment"), [1]);

        FileSync.Folder(_directory);
    }

    [Fact]
    public void Folder_Missing_OnLinuxThrowsNamingIt()
    {
        Assert.True(OperatingSystem.IsLinux(), "folder syncs are Linux calls; this suite runs on Linux");
        var missing = Path.Combine(_directory, "missing");

        var error = Assert.Throws<IOException>(() => FileSync.Folder(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }
}
