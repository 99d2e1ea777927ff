namespace PoolAI.Volumes.Coding;

/// <summary>
/// Arithmetic in GF(2^8) built on the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (<c>0x11D</c>, generator 2), the
/// field of Intel ISA-L's erasure code (<c>erasure_code/ec_base.c</c>) and of klauspost/reedsolomon: addition is XOR,
/// multiplication goes through logarithm and exponent tables.
/// </summary>
internal static class GaloisField
{
    /// <summary>The field's reducing polynomial, bit 8 included.</summary>
    public const int Polynomial = 0x11D;

    // _exp has 510 entries so that _exp[log a + log b] needs no reduction modulo 255.
    private static readonly byte[] _exp = new byte[510];
    private static readonly byte[] _log = new byte[256];
    private static readonly byte[] _products = BuildProducts();

    /// <summary>a · b in the field.</summary>
    public static byte Multiply(byte a, byte b) => a == 0 || b == 0 ? (byte)0 : _exp[_log[a] + _log[b]];

    /// <summary>The multiplicative inverse: a · Inverse(a) = 1.</summary>
    /// <exception cref="DivideByZeroException">a is 0, which has no inverse.</exception>
    public static byte Inverse(byte a) => a == 0 ? throw new DivideByZeroException("0 has no inverse in GF(2^8)") : _exp[255 - _log[a]];

    /// <summary>The 256 products c · x for x = 0..255 (a 256-byte row of the full 64 KiB product table).</summary>
    public static ReadOnlySpan<byte> ProductsOf(byte c) => _products.AsSpan(c << 8, 256);

    private static byte[] BuildProducts()
    {
        var x = 1;
        for (var i = 0; i < 255; i++)
        {
            _exp[i] = _exp[i + 255] = (byte)x;
            _log[x] = (byte)i;
            x <<= 1;
            if (x > 0xFF)
                x ^= Polynomial;
        }

        var products = new byte[256 * 256];
        for (var a = 1; a < 256; a++)
            for (var b = 1; b < 256; b++)
                products[(a << 8) | b] = _exp[_log[a] + _log[b]];
        return products;
    }
}
