using System.Globalization;
using CsCheck;

namespace NetObserv.Flows.Tests;

/// <summary>
/// Runs a decoder over inputs from a CsCheck generator, deterministically: every input comes from a PCG
/// seeded by <c>NETOBSERV_FUZZ_SEED</c> (default fixed), and <c>NETOBSERV_FUZZ_ITERATIONS</c> replaces the
/// short default count for long runs. Each decode must throw nothing but the decoder's own error type and
/// allocate at most <c>bytesPerInputByte * input length + fixedBytes</c> on the test thread. A failure names
/// the seed and iteration and prints the input as hex.
/// </summary>
internal static class FuzzRun
{
    private const ulong DefaultSeed = 20_261_202;

    /// <summary>Iterations for this run: the environment's, or <paramref name="fallback"/>.</summary>
    public static int Iterations(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("NETOBSERV_FUZZ_ITERATIONS"), NumberStyles.Integer,
            CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : fallback;

    private static ulong Seed() =>
        ulong.TryParse(Environment.GetEnvironmentVariable("NETOBSERV_FUZZ_SEED"), NumberStyles.Integer,
            CultureInfo.InvariantCulture, out var value)
            ? value
            : DefaultSeed;

    /// <summary>
    /// Decodes <paramref name="iterations"/> inputs from <paramref name="inputs"/>; returns the largest
    /// allocation seen per input byte for inputs of 1 KiB or more, for the record.
    /// </summary>
    /// <param name="name">Names the generator in failures (and varies its stream, so generators differ).</param>
    /// <param name="inputs">The inputs.</param>
    /// <param name="decode">One decode, as the server does it.</param>
    /// <param name="allowed">The decoder's own error type, or null when nothing may be thrown.</param>
    /// <param name="bytesPerInputByte">The allocation bound's slope.</param>
    /// <param name="fixedBytes">The allocation bound's constant.</param>
    /// <param name="iterations">Inputs to try (before <c>NETOBSERV_FUZZ_ITERATIONS</c>).</param>
    public static double Check(string name, Gen<byte[]> inputs, Action<byte[]> decode, Type? allowed,
        long bytesPerInputByte, long fixedBytes, int iterations)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(decode);
        var seed = Seed();
        var pcg = new PCG(Stream(name), seed);
        var worst = 0.0;
        var count = Iterations(iterations);
        for (var i = 0; i < count; i++)
        {
            var input = inputs.Generate(pcg, null, out _);
            long allocated;
            try
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                decode(input);
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e) when (allowed is not null && allowed.IsInstanceOfType(e))
            {
                continue;
            }
            catch (Exception e)
            {
                Assert.Fail(Describe(name, seed, i, input, $"{e.GetType().Name}: {e.Message}\n{e}"));
                return worst;
            }

            if (allocated > (bytesPerInputByte * input.Length) + fixedBytes)
            {
                Assert.Fail(Describe(name, seed, i, input, string.Create(CultureInfo.InvariantCulture,
                    $"allocated {allocated} bytes, over {bytesPerInputByte} x {input.Length} + {fixedBytes}")));
            }

            if (input.Length >= 1024)
            {
                worst = Math.Max(worst, allocated / (double)input.Length);
            }
        }

        return worst;
    }

    /// <summary>FNV-1a of the name: a PCG stream per generator, the same in every process.</summary>
    private static uint Stream(string name)
    {
        var hash = 2_166_136_261u;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 16_777_619u;
        }

        return hash;
    }

    private static string Describe(string name, ulong seed, int iteration, byte[] input, string what) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{name}, NETOBSERV_FUZZ_SEED={seed} iteration {iteration}: {what}\ninput ({input.Length} bytes): {Convert.ToHexString(input)}");

    /// <summary>
    /// Mutations of valid inputs: 1 to 8 steps of byte overwrites (random or from <paramref name="interesting"/>),
    /// bit flips, inserted, deleted and duplicated runs, and truncation.
    /// </summary>
    public static Gen<byte[]> Mutations(IReadOnlyList<byte[]> corpus, byte[] interesting)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var step = Gen.Select(Gen.Int[0, 6], Gen.Int[0, int.MaxValue], Gen.Int[1, 32], Gen.Byte,
            (kind, at, length, value) => new Mutation(kind, at, length, value));
        return Gen.Select(Gen.Int[0, corpus.Count - 1], step.Array[1, 8],
            (index, steps) => Apply(corpus[index], steps, interesting));
    }

    private readonly record struct Mutation(int Kind, int At, int Length, byte Value);

    private static byte[] Apply(byte[] original, Mutation[] steps, byte[] interesting)
    {
        var bytes = new List<byte>(original);
        foreach (var (kind, at, length, value) in steps)
        {
            if (bytes.Count == 0)
            {
                bytes.Add(value);
                continue;
            }

            var i = at % bytes.Count;
            var n = Math.Min(length, bytes.Count - i);
            switch (kind)
            {
                case 0:
                    bytes[i] = value;
                    break;
                case 1:
                    bytes[i] = interesting.Length == 0 ? value : interesting[value % interesting.Length];
                    break;
                case 2:
                    bytes[i] ^= (byte)(1 << (value & 7));
                    break;
                case 3:
                    bytes.InsertRange(i, Enumerable.Repeat(value, length));
                    break;
                case 4:
                    bytes.RemoveRange(i, n);
                    break;
                case 5:
                    // A run copied elsewhere: repeats fields, nests messages, splices sets.
                    bytes.InsertRange(at / 2 % bytes.Count, bytes.GetRange(i, n));
                    break;
                default:
                    bytes.RemoveRange(i, bytes.Count - i);
                    break;
            }
        }

        return [.. bytes];
    }
}
