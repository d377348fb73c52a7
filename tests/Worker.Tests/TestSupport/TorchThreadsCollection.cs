namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>
/// Tests that set torch's intra-op thread count, which is global to the process: they run alone, after the parallel
/// tests, so no other test's thread count changes under them (and theirs under no other test).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchThreadsCollection
{
    public const string Name = "torch threads";
}
