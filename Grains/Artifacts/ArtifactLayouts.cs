using PoolAI.Jobs;
using PoolAI.Volumes;

namespace PoolAI.Artifacts;

/// <summary>The layout of the artifact volume, chosen from the setting <see cref="ArtifactOptions.VolumeLayout"/> and the stores alive when the pool creates it.</summary>
public static class ArtifactLayouts
{
    /// <summary>The setting that lets the pool choose.</summary>
    public const string Auto = "auto";

    /// <summary>Most copies an automatic mirror keeps: three survive two lost stores, as <c>rs:4+2</c> does.</summary>
    public const int MaxAutoCopies = 3;

    /// <summary>
    /// The layout for <paramref name="setting"/> with <paramref name="liveStores"/> live stores, or null when that many
    /// cannot hold it (then artifact content stays in grain storage). <c>auto</c>: <see cref="VolumeLayout.Default"/>
    /// (<c>rs:4+2</c>) with at least its 6 stores, else <c>mirror:N</c> with N = min(<see cref="MaxAutoCopies"/>, live
    /// stores); none without a live store. An explicit layout needs a live store per shard of a stripe
    /// (<see cref="VolumeRules.CheckStores"/>).
    /// </summary>
    /// <exception cref="JobValidationException">Field <c>layout</c>: the setting is neither <c>auto</c> nor a layout.</exception>
    public static VolumeLayout? Choose(string setting, int liveStores)
    {
        if (IsAuto(setting))
        {
            if (liveStores < 1)
                return null;
            return liveStores >= VolumeLayout.Default.TotalShards
                ? VolumeLayout.Default
                : new VolumeLayout(1, Math.Min(MaxAutoCopies, liveStores) - 1, Mirror: true);
        }

        var layout = VolumeLayout.Parse(setting);
        return layout.TotalShards <= liveStores ? layout : null;
    }

    /// <summary>Checks the setting: <c>auto</c>, or a layout <see cref="VolumeLayout.Parse"/> accepts.</summary>
    /// <exception cref="JobValidationException">Field <c>layout</c>: the rule it breaks.</exception>
    public static void Check(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
            throw new JobValidationException("layout", "must not be empty");
        if (!IsAuto(setting))
            VolumeLayout.Parse(setting);
    }

    private static bool IsAuto(string setting) => string.Equals(setting.Trim(), Auto, StringComparison.OrdinalIgnoreCase);
}
