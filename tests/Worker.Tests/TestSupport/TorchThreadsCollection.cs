namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>
/// Tests that need torch's process-global state to themselves (the intra-op thread count, the global generator that
/// manual_seed resets, the process's resident memory): they run alone, after the parallel tests, so no other test changes it under them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchThreadsCollection
{
    public const string Name = "torch threads";
}
