using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PoolAI.Gateway.S3.Body;

/// <summary>
/// One of S3's flexible checksums (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html),
/// computed over a body as it streams: CRC32 (IEEE 802.3), CRC32C (Castagnoli), CRC64NVME, SHA-1, SHA-256. Its value
/// in <c>x-amz-checksum-NAME</c> is the base64 of the big-endian checksum.
/// </summary>
public abstract class S3Checksum
{
    /// <summary>The algorithms served, as named in <c>x-amz-checksum-NAME</c>.</summary>
    public static readonly IReadOnlyList<string> Names = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"];

    private S3Checksum(string name) => Name = name;

    /// <summary>The algorithm, lower case (<c>crc32</c>).</summary>
    public string Name { get; }

    /// <summary>The header that carries it, <c>x-amz-checksum-NAME</c>.</summary>
    public string Header => "x-amz-checksum-" + Name;

    /// <summary>The checksum for <paramref name="name"/> (any case), or null when S3 has no such algorithm.</summary>
    public static S3Checksum? Create(string name) => name.ToLowerInvariant() switch
    {
        "crc32" => new Crc32(name.ToLowerInvariant(), 0xEDB88320u),
        "crc32c" => new Crc32(name.ToLowerInvariant(), 0x82F63B78u),
        "crc64nvme" => new Crc64Nvme(),
        "sha1" => new Hash("sha1", HashAlgorithmName.SHA1),
        "sha256" => new Hash("sha256", HashAlgorithmName.SHA256),
        _ => null,
    };

    /// <summary>Adds <paramref name="data"/>.</summary>
    public abstract void Append(ReadOnlySpan<byte> data);

    /// <summary>The checksum of everything appended, base64 of its big-endian bytes.</summary>
    public abstract string Base64();

    /// <summary>A reflected CRC-32 with initial value and final XOR all ones; the table per polynomial.</summary>
    private sealed class Crc32(string name, uint polynomial) : S3Checksum(name)
    {
        private static readonly Dictionary<uint, uint[]> Tables = new() { [0xEDB88320u] = Table(0xEDB88320u), [0x82F63B78u] = Table(0x82F63B78u) };
        private readonly uint[] _table = Tables[polynomial];
        private uint _crc = uint.MaxValue;

        public override void Append(ReadOnlySpan<byte> data)
        {
            var crc = _crc;
            foreach (var b in data)
                crc = _table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            _crc = crc;
        }

        public override string Base64()
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, ~_crc);
            return Convert.ToBase64String(bytes);
        }

        private static uint[] Table(uint polynomial)
        {
            var table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                var c = i;
                for (var k = 0; k < 8; k++)
                    c = (c & 1) != 0 ? polynomial ^ (c >> 1) : c >> 1;
                table[i] = c;
            }

            return table;
        }
    }

    /// <summary>CRC-64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5, initial value and final XOR all ones.</summary>
    private sealed class Crc64Nvme() : S3Checksum("crc64nvme")
    {
        private static readonly ulong[] Table = MakeTable();
        private ulong _crc = ulong.MaxValue;

        public override void Append(ReadOnlySpan<byte> data)
        {
            var crc = _crc;
            foreach (var b in data)
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            _crc = crc;
        }

        public override string Base64()
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(bytes, ~_crc);
            return Convert.ToBase64String(bytes);
        }

        private static ulong[] MakeTable()
        {
            var table = new ulong[256];
            for (ulong i = 0; i < 256; i++)
            {
                var c = i;
                for (var k = 0; k < 8; k++)
                    c = (c & 1) != 0 ? 0x9A6C9329AC4BC9B5UL ^ (c >> 1) : c >> 1;
                table[i] = c;
            }

            return table;
        }
    }

    /// <summary>A cryptographic hash.</summary>
    private sealed class Hash(string name, HashAlgorithmName algorithm) : S3Checksum(name)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(algorithm);

        public override void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

        public override string Base64() => Convert.ToBase64String(_hash.GetHashAndReset());
    }
}
