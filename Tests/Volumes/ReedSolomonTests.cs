using PoolAI.Volumes.Coding;

namespace PoolAI.Tests.Volumes;

[TestClass]
public sealed class ReedSolomonTests
{
    private static readonly int[] _awkwardLengths = [0, 1, 31, 32, 33, 63, 64, 65, 4095, (1 << 20) + 7];

    private static ReedSolomon[] EveryPath(int k, int m) => [.. CodecPaths.Supported.Select(path => new ReedSolomon(k, m, path))];

    [TestMethod]
    public void TheBestPathIsTheFirstSupportedAndFeaturesNamesIt()
    {
        Assert.AreEqual(CodecPath.Scalar, CodecPaths.Supported[^1]);
        Assert.AreEqual(CodecPaths.Best, new ReedSolomon(4, 2).Path);
        Assert.AreEqual(CodecPaths.Name(CodecPaths.Best), ReedSolomon.Features);
    }

    [TestMethod]
    public void EveryPathMultipliesEveryConstantAsCarrylessMultiplicationModulo0x11D()
    {
        var input = Enumerable.Range(0, 256).Select(x => (byte)x).ToArray();
        foreach (var path in CodecPaths.Supported)
        {
            var coder = CodecPaths.CoderFor(path);
            for (var c = 0; c < 256; c++)
            {
                var tables = coder.Prepare([(byte)c], 1, 1);
                var output = new byte[256];
                coder.Run(tables, [input], [output]);
                for (var x = 0; x < 256; x++)
                    Assert.AreEqual(SlowMultiply(c, x), output[x], $"{path}: {c} · {x}");
            }
        }
    }

    [TestMethod]
    [DataRow(1, 1, 0, "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4")]
    [DataRow(4, 2, 0, "56f4b05fed4e08311bf7d1048c2d4f23c0ace8a81a81c7e6ec1862b77bdaa6cab35b1ff04276300923df9540c869513ddeb2f607b52e6820d4205a8f3f9ee28e2c4501ee5cd9")]
    [DataRow(4, 2, 1, "4814e46cb98120ac333e8537d89eaaef25fd0d9b4e329380c4224af82f69f2b71c0afa72a7c564e877c8bd0fe0a605408a52a285502c8de480660ebc1751ca8fa6a555dd08db")]
    [DataRow(10, 4, 0, "d65309429c5a9f8f5b0f83384843ae51dea6179637f029bcf05fee8e3fe8d1bd3ca6bcf7291b8292464b7525555e201699e150d682459c23ed42f393bbf5cca03ea1fbb06e12")]
    [DataRow(10, 4, 1, "680ee8ea7da17ed4baa68915a9e57edfcdf20409d67ac839112e0fa3474e30c17029afad3ac763c9a7727f08b4f8e86a7847b195913d8ff50c3312bec3532ddc4ffc1a188ff1")]
    [DataRow(10, 4, 2, "6c4254e9c748c7e95053c54033b9480b07d09f0eab08b4373c378743bdd567d0a92ef34e605ed8f64fb7082f5cd6afbcb067289b0caf138b2328985cddba08bf5f5244f9d733")]
    [DataRow(10, 4, 3, "df758583160066fff15fb60ee27b5b51c6a65ed77aed65279d02267d6317b69a0af23234a19e09909ee50b11fd64edf66101f9c2cd5ad267f26d49127308a985d0659593065a")]
    [DataRow(17, 3, 0, "c9b88ebb8b9f6d6589c585d65a80698d0577bde0c39edd44ffb481d91e556789719bdb2e1e70482dc15c3173e63cdac4dfad679ff30b48386cfcc9915c69db35104e41f4c44c")]
    [DataRow(17, 3, 1, "42a5f5098ae7300c4aefbf2ca309dcede8c603a21fefe89c741e93e57c2b05edc8a48d1192eb98692fc0950f69c319af240acfa94ff7f0dd997bf680e0ebcf27d07a61dd5e97")]
    [DataRow(17, 3, 2, "3a5589502a65f00f6b92d4f51f2201ffeee8f39274d782fe35788f9f9eec73abffbebe275dc8961e7a008ada4a7763e96d6b704f6ba0f58ac2699e8e763d26fef72ff6a4de0d")]
    [DataRow(200, 55, 0, "214bc09173b894571d958b7da789d3d8b48882d9a6efc0b465ba1667ff31076b7024084dcee7c674af09b39c1c53c376ab4d75a080b4df2d727a924002404d80818a3a648a2c")]
    [DataRow(200, 55, 54, "847229a2e1840b315fcd58bdae77d75d774d556dd1250b06f180b0adf424d1b52e7488f0a56db5804a3965270c79f341bc4568946efa25b1ca2236ec277a29760a709d1ff6a0")]
    public void ParityEqualsIsalEcEncodeData(int k, int m, int row, string isalParityHex)
    {
        // Made by Tests/Volumes/isal_vectors.c (ISA-L 2.30 gf_gen_cauchy1_matrix + ec_encode_data), 70 bytes per shard.
        const int Length = 70;
        var data = Enumerable.Range(0, k)
            .Select(i => (ReadOnlyMemory<byte>)Enumerable.Range(0, Length).Select(b => (byte)((i * 31) + (b * 7) + 1)).ToArray())
            .ToArray();
        var reference = TestShards.Filled(m, Length, 0);
        new ReedSolomonReference(k, m).Encode(data, reference);
        Assert.AreEqual(isalParityHex, Convert.ToHexStringLower(reference[row].Span), "reference");
        foreach (var codec in EveryPath(k, m))
        {
            var parity = TestShards.Filled(m, Length, 0xEE);
            codec.Encode(data, parity);
            Assert.AreEqual(isalParityHex, Convert.ToHexStringLower(parity[row].Span), codec.Path.ToString());
        }
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(4, 2)]
    [DataRow(10, 4)]
    [DataRow(17, 3)]
    [DataRow(200, 55)]
    public void EveryPathEncodesAsTheReferenceAtAwkwardLengths(int k, int m)
    {
        // The reference does K·M table multiplies a byte: 1 MiB of rs:200+55 would take minutes, so that code stops at 4095 bytes.
        foreach (var length in _awkwardLengths.Where(l => k * m < 1000 || l < 1 << 20))
        {
            var data = TestShards.ReadOnly(TestShards.Random(k, length, seed: length));
            var expected = TestShards.Filled(m, length, 0);
            new ReedSolomonReference(k, m).Encode(data, expected);
            foreach (var codec in EveryPath(k, m))
            {
                var parity = TestShards.Filled(m, length, 0xEE);
                codec.Encode(data, parity);
                for (var p = 0; p < m; p++)
                    Assert.IsTrue(expected[p].Span.SequenceEqual(parity[p].Span), $"{codec.Path}, rs:{k}+{m}, {length} bytes: parity shard {p} differs");
            }
        }
    }

    [TestMethod]
    public void EveryPathRebuildsRs4Plus2FromEveryPatternOfUpToTwoLosses()
    {
        foreach (var length in new[] { 1, 65, 4095 })
        {
            var original = Encoded(4, 2, length, seed: length);
            foreach (var present in TestShards.Losses(6, 2))
                foreach (var codec in EveryPath(4, 2))
                {
                    AssertRebuilds(codec, original, present, dataOnly: false);
                    AssertRebuilds(codec, original, present, dataOnly: true);
                }
        }
    }

    [TestMethod]
    [DataRow(10, 4, 4097)]
    [DataRow(17, 3, 1000)]
    [DataRow(200, 55, 333)]
    public void EveryPathRebuildsBigCodesFromRandomPatternsOfUpToMLosses(int k, int m, int length)
    {
        var original = Encoded(k, m, length, seed: k);
        foreach (var present in TestShards.RandomLosses(k + m, m, count: 12, seed: k))
            foreach (var codec in EveryPath(k, m))
            {
                AssertRebuilds(codec, original, present, dataOnly: false);
                AssertRebuilds(codec, original, present, dataOnly: true);
            }
    }

    [TestMethod]
    public void RebuildOfAMebibyteStripeMatchesTheReference()
    {
        var original = Encoded(10, 4, (1 << 20) + 7, seed: 7);
        bool[] present = [false, true, true, false, true, true, true, false, true, true, true, true, false, true];
        var expected = original.Select(s => (Memory<byte>)s.ToArray()).ToArray();
        TestShards.Erase(expected, present);
        new ReedSolomonReference(10, 4).Reconstruct(expected, present);
        foreach (var codec in EveryPath(10, 4))
        {
            var shards = original.Select(s => (Memory<byte>)s.ToArray()).ToArray();
            TestShards.Erase(shards, present);
            codec.Reconstruct(shards, present);
            for (var i = 0; i < shards.Length; i++)
                Assert.IsTrue(expected[i].Span.SequenceEqual(shards[i].Span), $"{codec.Path}: shard {i} differs from the reference's");
        }
    }

    [TestMethod]
    public void TheReferenceRebuildsEveryPatternOfRs4Plus2()
    {
        var original = Encoded(4, 2, 100, seed: 3);
        foreach (var present in TestShards.Losses(6, 2))
        {
            var shards = original.Select(s => (Memory<byte>)s.ToArray()).ToArray();
            TestShards.Erase(shards, present);
            new ReedSolomonReference(4, 2).Reconstruct(shards, present);
            for (var i = 0; i < 6; i++)
                CollectionAssert.AreEqual(original[i], shards[i].ToArray(), $"shard {i}");
        }
    }

    [TestMethod]
    public void ConcurrentCallsOnOneInstanceGiveTheSameBytesAsOneAtATime()
    {
        var codec = new ReedSolomon(10, 4);
        var stripes = Enumerable.Range(0, 32).Select(s => Encoded(10, 4, 10_000 + s, seed: s)).ToArray();
        var patterns = TestShards.RandomLosses(14, 4, count: 32, seed: 1).ToArray();
        Parallel.For(0, 256, new ParallelOptions { MaxDegreeOfParallelism = 4 }, n =>
        {
            var original = stripes[n % stripes.Length];
            var shards = original.Select(s => (Memory<byte>)s.ToArray()).ToArray();
            if (n % 2 == 0)
            {
                var parity = TestShards.Filled(4, shards[0].Length, 0xEE);
                codec.Encode(TestShards.ReadOnly(shards[..10]), parity);
                for (var p = 0; p < 4; p++)
                    Assert.IsTrue(parity[p].Span.SequenceEqual(original[10 + p]), $"call {n}: parity {p}");
            }
            else
            {
                var present = patterns[n % patterns.Length];
                TestShards.Erase(shards, present);
                codec.Reconstruct(shards, present);
                for (var i = 0; i < 14; i++)
                    Assert.IsTrue(shards[i].Span.SequenceEqual(original[i]), $"call {n}: shard {i}");
            }
        });
    }

    [TestMethod]
    public void TooFewShardsThrowsSayingHowManyArePresentAndNeeded()
    {
        var shards = TestShards.Random(6, 64, 1);
        bool[] present = [true, false, true, false, false, true];
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new ReedSolomon(4, 2).Reconstruct(shards, present));
        Assert.AreEqual("3 of 6 shards present; 4 needed to reconstruct", error.Message);
        error = Assert.ThrowsExactly<InvalidOperationException>(() => new ReedSolomonReference(4, 2).Reconstruct(shards, present));
        Assert.AreEqual("3 of 6 shards present; 4 needed to reconstruct", error.Message);
    }

    [TestMethod]
    [DataRow(0, 1, "dataShards")]
    [DataRow(-1, 2, "dataShards")]
    [DataRow(4, 0, "parityShards")]
    [DataRow(200, 56, "parityShards")]
    public void ACodeOutOfRangeThrowsNamingTheParameter(int k, int m, string parameter)
    {
        Assert.AreEqual(parameter, Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ReedSolomon(k, m)).ParamName);
        Assert.AreEqual(parameter, Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ReedSolomonReference(k, m)).ParamName);
    }

    [TestMethod]
    public void TheLargestCodeHas255Shards() => Assert.AreEqual(255, new ReedSolomon(200, 55).TotalShards);

    [TestMethod]
    public void BadEncodeArgumentsThrowNamingTheParameter()
    {
        var codec = new ReedSolomon(4, 2);
        var data = TestShards.ReadOnly(TestShards.Random(4, 64, 1));
        var parity = TestShards.Random(2, 64, 2);
        Assert.AreEqual("data", Assert.ThrowsExactly<ArgumentException>(() => codec.Encode(data[..3], parity)).ParamName);
        Assert.AreEqual("parity", Assert.ThrowsExactly<ArgumentException>(() => codec.Encode(data, parity[..1])).ParamName);
        var shortData = data.ToArray();
        shortData[2] = shortData[2][..63];
        Assert.AreEqual("data", Assert.ThrowsExactly<ArgumentException>(() => codec.Encode(shortData, parity)).ParamName);
        var longParity = parity.ToArray();
        longParity[1] = new byte[65];
        Assert.AreEqual("parity", Assert.ThrowsExactly<ArgumentException>(() => codec.Encode(data, longParity)).ParamName);
    }

    [TestMethod]
    public void BadReconstructArgumentsThrowNamingTheParameter()
    {
        var codec = new ReedSolomon(4, 2);
        var shards = TestShards.Random(6, 64, 1);
        bool[] present = [true, true, true, true, false, false];
        Assert.AreEqual("shards", Assert.ThrowsExactly<ArgumentException>(() => codec.Reconstruct(shards[..5], present)).ParamName);
        Assert.AreEqual("present", Assert.ThrowsExactly<ArgumentException>(() => codec.Reconstruct(shards, present[..5])).ParamName);
        shards[5] = new byte[63];
        Assert.AreEqual("shards", Assert.ThrowsExactly<ArgumentException>(() => codec.Reconstruct(shards, present)).ParamName);
    }

    // A stripe of K random data shards and its M parity shards, encoded by the reference.
    private static byte[][] Encoded(int k, int m, int length, int seed)
    {
        var shards = TestShards.Random(k + m, length, seed);
        new ReedSolomonReference(k, m).Encode(TestShards.ReadOnly(shards[..k]), shards[k..]);
        return TestShards.Copy(shards);
    }

    // Erases the lost shards of a copy of the stripe, reconstructs, and checks every shard: rebuilt ones equal the
    // original, and with dataOnly the lost parity shards are left as they were (0xEE).
    private static void AssertRebuilds(ReedSolomon codec, byte[][] original, bool[] present, bool dataOnly)
    {
        var shards = original.Select(s => (Memory<byte>)s.ToArray()).ToArray();
        TestShards.Erase(shards, present);
        codec.Reconstruct(shards, present, dataOnly);
        var lost = string.Join(',', Enumerable.Range(0, present.Length).Where(i => !present[i]));
        for (var i = 0; i < shards.Length; i++)
        {
            var untouched = dataOnly && !present[i] && i >= codec.DataShards;
            Assert.IsTrue(untouched ? shards[i].Span.IndexOfAnyExcept((byte)0xEE) < 0 : shards[i].Span.SequenceEqual(original[i]),
                $"{codec.Path}, rs:{codec.DataShards}+{codec.ParityShards}, lost {lost}, dataOnly {dataOnly}: shard {i} is wrong");
        }
    }

    // Shift-and-add multiplication reducing by x^8 + x^4 + x^3 + x^2 + 1: independent of the codec's log/exp tables.
    private static byte SlowMultiply(int a, int b)
    {
        var product = 0;
        for (; b != 0; b >>= 1, a <<= 1)
        {
            if ((a & 0x100) != 0)
                a ^= 0x11D;
            if ((b & 1) != 0)
                product ^= a;
        }

        return (byte)product;
    }
}
