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

    /// <summary>Most bytes offered to volumes (0: the disk's free space).</summary>
    public long CapacityBytes { get; set; }

    /// <summary>fsync each shard before it is renamed into place.</summary>
    public bool FlushToDisk { get; set; } = true;
}
