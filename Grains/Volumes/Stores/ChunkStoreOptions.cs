namespace PoolAI.Volumes.Stores;

/// <summary>The chunk store of a trusted silo (<c>PoolAI:Volumes:Store</c>).</summary>
public sealed class ChunkStoreOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "PoolAI:Volumes:Store";

    /// <summary>Offer a store on this silo (miner and all-in-one roles; coordinators never hold shards).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Folder of the shards; default <c>$POOLAI_HOME/chunks</c>.</summary>
    public string? Directory { get; set; }

    /// <summary>
    /// Stores this silo offers, one per folder: 1 keeps shards in <see cref="Directory"/>; N &gt; 1 in its subfolders
    /// <c>drive-1</c> … <c>drive-N</c> (mount a disk at each, or try erasure coding on one machine). Each is a store of
    /// its own (id <c>WORKER</c>, then <c>WORKER~2</c> …), all on this host, so the shards of a stripe may share the host
    /// but never a store.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64)]
    public int Drives { get; set; } = 1;

    /// <summary>Most bytes offered to volumes (0: the disk's free space).</summary>
    public long CapacityBytes { get; set; }

    /// <summary>fsync each shard before it is renamed into place.</summary>
    public bool FlushToDisk { get; set; } = true;

    /// <summary>
    /// Where writers and readers reach this silo's shard transport: empty (the default) for the web server's own address,
    /// with a wildcard host replaced by the silo's advertised IP; a URL (<c>http://10.0.0.5:8080</c>) when they must use
    /// another (a proxy, a NAT); <c>none</c> to announce no transport (shards then move through the stores' grains).
    /// </summary>
    public string? DataEndpoint { get; set; }
}
