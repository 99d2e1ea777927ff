namespace PoolAI.Volumes.Coding;

/// <summary>A compile-time count of outputs that <see cref="DotProduct"/> keeps in registers; the JIT folds <see cref="Value"/>
/// to a constant per struct type argument, so the unused accumulators and their branches vanish.</summary>
internal interface IGroupSize
{
    /// <summary>The count, 1..8.</summary>
    static abstract int Value { get; }
}

/// <summary>One output.</summary>
internal readonly struct Group1 : IGroupSize { public static int Value => 1; }

/// <summary>Two outputs.</summary>
internal readonly struct Group2 : IGroupSize { public static int Value => 2; }

/// <summary>Three outputs.</summary>
internal readonly struct Group3 : IGroupSize { public static int Value => 3; }

/// <summary>Four outputs.</summary>
internal readonly struct Group4 : IGroupSize { public static int Value => 4; }

/// <summary>Five outputs.</summary>
internal readonly struct Group5 : IGroupSize { public static int Value => 5; }

/// <summary>Six outputs.</summary>
internal readonly struct Group6 : IGroupSize { public static int Value => 6; }

/// <summary>Seven outputs.</summary>
internal readonly struct Group7 : IGroupSize { public static int Value => 7; }

/// <summary>Eight outputs.</summary>
internal readonly struct Group8 : IGroupSize { public static int Value => 8; }
