namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>
/// Tests that need torch's process-global state to themselves (the intra-op thread count, the global generator that
/// manual_seed resets, the process's resident memory, the process-wide no-GC region): they must run alone, so no other
/// test changes it under them. Every Worker.Tests class runs one at a time today (xunit.runner.json); this collection
/// still names the tests that would break if that changed.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchThreadsCollection
{
    public const string Name = "torch threads";
}
