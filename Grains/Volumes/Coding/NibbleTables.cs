namespace PoolAI.Volumes.Coding;

/// <summary>
/// The split-table multiply of Plank, Greenan and Miller, "Screaming Fast Galois Field Arithmetic Using Intel SIMD
/// Instructions" (FAST 2013), as in ISA-L's <c>gf_vect_dot_prod_avx2</c> and klauspost/reedsolomon: c · x =
/// c · (x AND 0x0F) XOR c · (x AND 0xF0), each half looked up in a 16-entry table by a byte shuffle, which looks up
/// within each 128-bit lane. Expands c into those two tables, c · n and then c · (n &lt;&lt; 4) for n = 0..15, each
/// repeated once per lane so the kernel loads whole vectors (the JIT makes five instructions of a 128-to-512-bit
/// broadcast).
/// </summary>
internal static class NibbleTables
{
    /// <summary>The low-nibble mask, 0x0F in every byte.</summary>
    public const byte LowNibble = 0x0F;

    /// <summary>Writes the low table then the high table of c, each 16 bytes repeated <paramref name="lanes"/> times (32 · lanes bytes).</summary>
    public static void Write(byte c, Span<byte> table, int lanes)
    {
        for (var lane = 0; lane < lanes; lane++)
            for (var n = 0; n < 16; n++)
            {
                table[(16 * lane) + n] = GaloisField.Multiply(c, (byte)n);
                table[(16 * (lanes + lane)) + n] = GaloisField.Multiply(c, (byte)(n << 4));
            }
    }
}
