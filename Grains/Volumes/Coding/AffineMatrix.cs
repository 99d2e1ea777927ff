namespace PoolAI.Volumes.Coding;

/// <summary>
/// Multiplication by a constant c in GF(2^8) as the 8 × 8 bit matrix that the GFNI instruction <c>GF2P8AFFINEQB</c>
/// applies to every byte. Multiplying by c is linear over GF(2) — c · x = XOR over the set bits j of x of c · 2^j — in
/// any polynomial's field, so it works for 0x11D although the instruction's own multiply (<c>GF2P8MULB</c>) is fixed
/// to 0x11B. Source: Intel, "Galois Field New Instructions (GFNI) Technology Guide" (affine transform), the technique of
/// ISA-L's <c>gf_vect_gfni</c> kernels and klauspost/reedsolomon's <c>galois_gen_amd64.s</c>.
/// </summary>
internal static class AffineMatrix
{
    /// <summary>
    /// The instruction's 64-bit matrix operand for c: result bit i of a byte x is the parity of (byte 7 − i of the
    /// matrix) AND x, so byte 7 − i holds, at bit j, bit i of c · 2^j.
    /// </summary>
    public static ulong For(byte c)
    {
        ulong matrix = 0;
        for (var i = 0; i < 8; i++)
        {
            var row = 0;
            for (var j = 0; j < 8; j++)
                row |= ((GaloisField.Multiply(c, (byte)(1 << j)) >> i) & 1) << j;
            matrix |= (ulong)row << (8 * (7 - i));
        }

        return matrix;
    }
}
