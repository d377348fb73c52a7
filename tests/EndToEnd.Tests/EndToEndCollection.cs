namespace SpectralDiffusion.EndToEnd.Tests;

/// <summary>End-to-end tests start several processes each; they run one at a time so they do not starve each other of the 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}
