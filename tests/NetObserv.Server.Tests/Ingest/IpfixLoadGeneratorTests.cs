using NetObserv.Server.Commands;
using NetObserv.Server.Loadgen;

namespace NetObserv.Server.Tests.Ingest;

public sealed class IpfixLoadGeneratorTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("5", 5)]
    [InlineData("0.5s", 0.5)]
    [InlineData("00:01:30", 90)]
    public void ParseDuration_KnownForms_Seconds(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), IpfixLoadGenerator.ParseDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-3s")]
    [InlineData("10d")]
    public void ParseDuration_BadForms_CommandLineError(string text) =>
        Assert.Throws<CommandLineException>(() => IpfixLoadGenerator.ParseDuration(text));

    [Fact]
    public async Task RunAsync_BadRateOrTarget_CommandLineError()
    {
        await Assert.ThrowsAsync<CommandLineException>(() =>
            IpfixLoadGenerator.RunAsync(["--rate", "fast", "--target", "127.0.0.1:4739"], CancellationToken.None));
        await Assert.ThrowsAsync<CommandLineException>(() =>
            IpfixLoadGenerator.RunAsync(["--rate", "10", "--target", "127.0.0.1"], CancellationToken.None));
    }
}
