using SpectralDiffusion.Benchmarks;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Tests.Training;

/// <summary>The PyTorch peer of the peer-distill-step benchmark (bench/peer/distill_step.py) builds our networks and loss.</summary>
public sealed class PeerDistillationTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sd-peer-tests-").FullName;

    public PeerDistillationTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [PythonTorchFact]
    public void PeerScript_SameWeightsAndInput_HasOurParameterCountsAndLossTerms()
    {
        using var pair = new PeerDistillation(batch: 2, seed: 3, totalSteps: 10);
        var weights = Path.Combine(directory, "peer.safetensors");
        pair.WriteWeights(weights);

        using var peer = PythonPeer.Start(PythonTorch.Interpreter, "--weights", weights, "--batch", "2", "--threads", "1");

        Assert.Equal(pair.ParameterCounts.OrderBy(c => c.Key), peer.ParameterCounts.OrderBy(c => c.Key));
        Assert.Empty(PeerDistillation.LossMismatches(pair.CheckLosses(), peer.CheckLosses));
    }
}
