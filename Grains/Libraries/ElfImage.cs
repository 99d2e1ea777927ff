using System.Buffers.Binary;
using System.Text;

namespace PoolAI.Libraries;

/// <summary>
/// The parts of a little-endian ELF64 shared object that decide whether the dynamic linker will load
/// it: the symbol versions it needs (<c>.gnu.version_r</c>), the versions it defines
/// (<c>.gnu.version_d</c>) and its dynamic symbols with their version indexes (<c>.dynsym</c>,
/// <c>.gnu.version</c>). Layouts: System V gABI (<c>Elf64_Ehdr</c>, <c>Elf64_Shdr</c>,
/// <c>Elf64_Sym</c>) and the LSB core specification, "Symbol Versioning" (<c>Elf64_Verdef</c>,
/// <c>Elf64_Verdaux</c>, <c>Elf64_Verneed</c>, <c>Elf64_Vernaux</c>).
/// </summary>
public sealed class ElfImage
{
    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;

    /// <summary><c>VER_FLG_WEAK</c>: a needed version the linker only warns about when it is missing.</summary>
    public const ushort VersionFlagWeak = 0x2;

    /// <summary><c>STB_WEAK</c>: an undefined weak symbol resolves to 0 instead of failing the load.</summary>
    public const byte BindingWeak = 2;

    private readonly byte[] _bytes;

    private ElfImage(byte[] bytes)
    {
        _bytes = bytes;
        Parse();
    }

    /// <summary>Versions needed from other libraries, in file order.</summary>
    public IReadOnlyList<NeededVersion> NeededVersions { get; private set; } = [];

    /// <summary>Version names this object defines (for a library such as libstdc++: <c>GLIBCXX_3.4.30</c>, …).</summary>
    public IReadOnlyList<string> DefinedVersions { get; private set; } = [];

    /// <summary>Dynamic symbols with their version index (0 and 1 are the local and global base versions).</summary>
    public IReadOnlyList<DynamicSymbol> Symbols { get; private set; } = [];

    /// <summary>The file's bytes, including any patches applied.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Reads an ELF64 little-endian file.</summary>
    /// <exception cref="InvalidDataException">Not an ELF64 little-endian file, or a section lies outside it.</exception>
    public static ElfImage Load(string path) => Parse(File.ReadAllBytes(path));

    /// <summary>Parses ELF64 little-endian bytes (the array is owned by the image from then on).</summary>
    /// <exception cref="InvalidDataException">Not an ELF64 little-endian image, or a section lies outside it.</exception>
    public static ElfImage Parse(byte[] bytes)
    {
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        return new ElfImage(bytes);
    }

    /// <summary>Marks the needed version <paramref name="version"/> weak (sets <see cref="VersionFlagWeak"/> in its <c>vna_flags</c>).</summary>
    /// <returns>True when a flag changed; false when it was already weak.</returns>
    public bool MarkVersionWeak(NeededVersion version)
    {
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(version.FlagsOffset));
        if ((flags & VersionFlagWeak) != 0)
            return false;
        BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(version.FlagsOffset), (ushort)(flags | VersionFlagWeak));
        Parse();
        return true;
    }

    /// <summary>Gives <paramref name="symbol"/> weak binding (<see cref="BindingWeak"/> in the high nibble of <c>st_info</c>).</summary>
    /// <returns>True when the binding changed; false when it was already weak.</returns>
    public bool MarkSymbolWeak(DynamicSymbol symbol)
    {
        var info = _bytes[symbol.InfoOffset];
        if (info >> 4 == BindingWeak)
            return false;
        _bytes[symbol.InfoOffset] = (byte)((BindingWeak << 4) | (info & 0x0f));
        Parse();
        return true;
    }

    private void Parse()
    {
        var shoff = checked((int)ReadU64(0x28));
        var shentsize = ReadU16(0x3A);
        var shnum = ReadU16(0x3C);
        var sections = new List<Section>(shnum);
        for (var i = 0; i < shnum; i++)
        {
            var at = shoff + i * shentsize;
            sections.Add(new Section(
                Type: ReadU32(at + 4),
                Offset: checked((int)ReadU64(at + 0x18)),
                Size: checked((int)ReadU64(at + 0x20)),
                Link: ReadU32(at + 0x28),
                Info: ReadU32(at + 0x2C),
                EntrySize: checked((int)ReadU64(at + 0x38))));
        }

        foreach (var s in sections)
        {
            if (s.Type != 8 /* SHT_NOBITS */ && (s.Offset < 0 || s.Offset + s.Size > _bytes.Length))
                throw new InvalidDataException("a section lies outside the file");
        }

        NeededVersions = ReadVerneed(sections);
        DefinedVersions = ReadVerdef(sections);
        Symbols = ReadSymbols(sections);
    }

    private List<NeededVersion> ReadVerneed(List<Section> sections)
    {
        var result = new List<NeededVersion>();
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strtab = sections[(int)s.Link];
            var entry = s.Offset;
            for (var n = 0; n < s.Info; n++)
            {
                var count = ReadU16(entry + 2);
                var file = ReadString(strtab, ReadU32(entry + 4));
                var aux = entry + (int)ReadU32(entry + 8);
                for (var a = 0; a < count; a++)
                {
                    result.Add(new NeededVersion(
                        File: file,
                        Name: ReadString(strtab, ReadU32(aux + 8)),
                        Flags: ReadU16(aux + 4),
                        Index: ReadU16(aux + 6),
                        FlagsOffset: aux + 4));
                    aux += (int)ReadU32(aux + 12);
                }

                var next = ReadU32(entry + 12);
                if (next == 0)
                    break;
                entry += (int)next;
            }
        }

        return result;
    }

    private List<string> ReadVerdef(List<Section> sections)
    {
        var result = new List<string>();
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerdef))
        {
            var strtab = sections[(int)s.Link];
            var entry = s.Offset;
            for (var n = 0; n < s.Info; n++)
            {
                var flags = ReadU16(entry + 2);
                var aux = entry + (int)ReadU32(entry + 12);
                // VER_FLG_BASE (0x1) names the file itself, not a version.
                if ((flags & 0x1) == 0)
                    result.Add(ReadString(strtab, ReadU32(aux)));
                var next = ReadU32(entry + 16);
                if (next == 0)
                    break;
                entry += (int)next;
            }
        }

        return result;
    }

    private List<DynamicSymbol> ReadSymbols(List<Section> sections)
    {
        var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
        if (dynsym is null || dynsym.EntrySize == 0)
            return [];
        var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        var strtab = sections[(int)dynsym.Link];
        var count = dynsym.Size / dynsym.EntrySize;
        var result = new List<DynamicSymbol>(count);
        for (var i = 0; i < count; i++)
        {
            var at = dynsym.Offset + i * dynsym.EntrySize;
            var version = versym is null ? (ushort)1 : (ushort)(ReadU16(versym.Offset + 2 * i) & 0x7fff);
            result.Add(new DynamicSymbol(
                Name: ReadString(strtab, ReadU32(at)),
                Binding: (byte)(_bytes[at + 4] >> 4),
                IsDefined: ReadU16(at + 6) != 0,
                VersionIndex: version,
                InfoOffset: at + 4));
        }

        return result;
    }

    private string ReadString(Section strtab, uint offset)
    {
        var start = strtab.Offset + (int)offset;
        var end = Array.IndexOf(_bytes, (byte)0, start);
        return Encoding.ASCII.GetString(_bytes, start, end - start);
    }

    private ushort ReadU16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(at));

    private uint ReadU32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(at));

    private ulong ReadU64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(at));

    private sealed record Section(uint Type, int Offset, int Size, uint Link, uint Info, int EntrySize);
}

/// <summary>A symbol version an ELF object needs from another library (<c>Elf64_Vernaux</c>).</summary>
/// <param name="File">Library that must provide it, e.g. <c>libstdc++.so.6</c>.</param>
/// <param name="Name">Version name, e.g. <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Flags"><c>vna_flags</c>; <see cref="ElfImage.VersionFlagWeak"/> when only a warning is due if missing.</param>
/// <param name="Index"><c>vna_other</c>: the version index that symbols bound to this version carry in <c>.gnu.version</c>.</param>
/// <param name="FlagsOffset">File offset of <c>vna_flags</c>.</param>
public sealed record NeededVersion(string File, string Name, ushort Flags, ushort Index, int FlagsOffset)
{
    /// <summary>True when the version is marked weak.</summary>
    public bool IsWeak => (Flags & ElfImage.VersionFlagWeak) != 0;
}

/// <summary>A dynamic symbol (<c>Elf64_Sym</c>) and its version index.</summary>
/// <param name="Name">Symbol name (mangled for C++).</param>
/// <param name="Binding"><c>STB_*</c>: 0 local, 1 global, 2 weak.</param>
/// <param name="IsDefined">False for an import (<c>st_shndx == SHN_UNDEF</c>).</param>
/// <param name="VersionIndex">Index into the needed/defined versions; 1 is the unversioned global base.</param>
/// <param name="InfoOffset">File offset of <c>st_info</c>.</param>
public sealed record DynamicSymbol(string Name, byte Binding, bool IsDefined, ushort VersionIndex, int InfoOffset);
