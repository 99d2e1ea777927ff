namespace PoolAI.Volumes.Coding;

/// <summary>
/// Matrices over GF(2^8) as row-major byte arrays: the systematic Cauchy encoding matrix and Gauss–Jordan inversion,
/// built exactly as Intel ISA-L's <c>gf_gen_cauchy1_matrix</c> and <c>gf_invert_matrix</c> (<c>erasure_code/ec_base.c</c>)
/// so that parity bytes equal ISA-L's <c>ec_encode_data</c> output.
/// </summary>
internal static class CodingMatrix
{
    /// <summary>
    /// The (K + M) × K encoding matrix, row-major: the K × K identity on top (data shards are stored as they are), then
    /// parity row r, column j holding 1 / ((K + r) XOR j) — a Cauchy matrix on the disjoint sets {K..K+M−1} and {0..K−1},
    /// so every K × K submatrix of the whole is invertible (any K shards rebuild the rest) while K + M ≤ 256.
    /// </summary>
    /// <param name="dataShards">K ≥ 1.</param>
    /// <param name="parityShards">M ≥ 1 with K + M ≤ 256.</param>
    public static byte[] Cauchy(int dataShards, int parityShards)
    {
        var k = dataShards;
        var matrix = new byte[(k + parityShards) * k];
        for (var i = 0; i < k; i++)
            matrix[(i * k) + i] = 1;
        for (var i = k; i < k + parityShards; i++)
            for (var j = 0; j < k; j++)
                matrix[(i * k) + j] = GaloisField.Inverse((byte)(i ^ j));
        return matrix;
    }

    /// <summary>The inverse of an n × n row-major matrix by Gauss–Jordan elimination with row swaps.</summary>
    /// <exception cref="InvalidOperationException">The matrix is singular (never for K rows of a Cauchy encoding matrix).</exception>
    public static byte[] Invert(ReadOnlySpan<byte> matrix, int n)
    {
        var work = matrix.ToArray();
        var inverse = new byte[n * n];
        for (var i = 0; i < n; i++)
            inverse[(i * n) + i] = 1;
        for (var column = 0; column < n; column++)
        {
            var pivot = column;
            while (pivot < n && work[(pivot * n) + column] == 0)
                pivot++;
            if (pivot == n)
                throw new InvalidOperationException($"the {n}×{n} matrix is singular");
            SwapRows(work, n, pivot, column);
            SwapRows(inverse, n, pivot, column);
            var scale = GaloisField.Inverse(work[(column * n) + column]);
            ScaleRow(work, n, column, scale);
            ScaleRow(inverse, n, column, scale);
            for (var row = 0; row < n; row++)
            {
                var factor = work[(row * n) + column];
                if (row == column || factor == 0)
                    continue;
                AddScaledRow(work, n, column, row, factor);
                AddScaledRow(inverse, n, column, row, factor);
            }
        }

        return inverse;
    }

    /// <summary>The (rows × n) product a · b of a (rows × inner) and b (inner × n), both row-major.</summary>
    public static byte[] Multiply(ReadOnlySpan<byte> a, int rows, ReadOnlySpan<byte> b, int inner, int n)
    {
        var product = new byte[rows * n];
        for (var r = 0; r < rows; r++)
            for (var i = 0; i < inner; i++)
            {
                var factor = a[(r * inner) + i];
                if (factor == 0)
                    continue;
                for (var c = 0; c < n; c++)
                    product[(r * n) + c] ^= GaloisField.Multiply(factor, b[(i * n) + c]);
            }

        return product;
    }

    private static void SwapRows(byte[] m, int n, int a, int b)
    {
        if (a != b)
            for (var c = 0; c < n; c++)
                (m[(a * n) + c], m[(b * n) + c]) = (m[(b * n) + c], m[(a * n) + c]);
    }

    private static void ScaleRow(byte[] m, int n, int row, byte scale)
    {
        for (var c = 0; c < n; c++)
            m[(row * n) + c] = GaloisField.Multiply(m[(row * n) + c], scale);
    }

    private static void AddScaledRow(byte[] m, int n, int from, int to, byte factor)
    {
        for (var c = 0; c < n; c++)
            m[(to * n) + c] ^= GaloisField.Multiply(factor, m[(from * n) + c]);
    }
}
