namespace PoolAI;

/// <summary>
/// Grain references without Orleans' per-call interface lookup. <c>IGrainFactory.GetGrain&lt;T&gt;(key)</c> resolves
/// <c>T</c>'s <see cref="GrainInterfaceType"/> from its attributes on every call (Orleans 10.4 does not
/// cache it); in a profile of the no-op job benchmark that lookup was a tenth of the pool's CPU, as a job makes six
/// references to new grains. These helpers resolve each interface once — its grain type and interface type, from
/// the first reference Orleans makes — and then build the <see cref="GrainId"/> directly, giving the same reference.
/// <para>
/// A reference whose grain type Orleans could not resolve yet (a client that has not received the cluster's type
/// map: a stub type under <c>sys.</c>) is returned but not remembered, so the next call resolves again.
/// </para>
/// </summary>
public static class GrainReferences
{
    /// <summary>The reference to the grain <typeparamref name="T"/> with key <paramref name="key"/>; the same as <c>GetGrain&lt;T&gt;(key)</c>.</summary>
    public static T Reference<T>(this IGrainFactory grains, Guid key) where T : IGrainWithGuidKey =>
        Resolved<T>.Types is { } types
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, GrainIdKeyExtensions.CreateGuidKey(key)), types.Interface)
            : Remember(grains.GetGrain<T>(key));

    /// <summary>The reference to the grain <typeparamref name="T"/> with key <paramref name="key"/>; the same as <c>GetGrain&lt;T&gt;(key)</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space (as Orleans refuses it).</exception>
    public static T Reference<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return Resolved<T>.Types is { } types
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, IdSpan.Create(key)), types.Interface)
            : Remember(grains.GetGrain<T>(key));
    }

    private static T Remember<T>(T reference)
    {
        if (reference is GrainReference grain && !grain.GrainId.Type.ToString()!.StartsWith(GrainTypePrefix.SystemPrefix, StringComparison.Ordinal))
            Resolved<T>.Types = new ResolvedTypes(grain.GrainId.Type, grain.InterfaceType);
        return reference;
    }

    private sealed record ResolvedTypes(GrainType Grain, GrainInterfaceType Interface);

    // One per interface; a reference-type field, so a reader sees either nothing or both types.
    private static class Resolved<T>
    {
        public static volatile ResolvedTypes? Types;
    }
}
