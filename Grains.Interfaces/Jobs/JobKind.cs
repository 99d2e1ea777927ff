namespace PoolAI.Jobs;

/// <summary>What a job asks the pool to do. Each kind is served by its own queue per model.</summary>
public enum JobKind
{
    /// <summary>Generate text with a language model from a prompt.</summary>
    TextGeneration = 0,

    /// <summary>Generate code with a code model from a prompt.</summary>
    CodeGeneration = 1,

    /// <summary>Generate images.</summary>
    ImageGeneration = 2,

    /// <summary>Train or fine-tune a model on a data set.</summary>
    Training = 3,

    /// <summary>Preprocess, augment, validate or sync a data set.</summary>
    DataProcessing = 4,

    /// <summary>Pool maintenance: migration, file mirroring, optimisation, monitoring.</summary>
    System = 5,
}
