using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// CompVis LitEma: shadow = shadow − (1 − d)·(shadow − θ) with the warm-up d = min(decay, (1 + n) / (10 + n)),
/// over the trainable parameters, keyed by parameter name.
/// </summary>
public sealed class ExponentialMovingAverage : IDisposable
{
    readonly double decay;
    readonly List<(string Name, Parameter Parameter, Tensor Shadow)> entries = new();

    public ExponentialMovingAverage(nn.Module model, double decay = 0.9999)
    {
        if (decay is < 0 or > 1 || double.IsNaN(decay)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "EMA decay must be in [0, 1]");
        this.decay = decay;
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (parameter.requires_grad)
                entries.Add((name, parameter, parameter.detach().clone()));
    }

    /// <summary>Number of updates so far (LitEma's num_updates).</summary>
    public long Updates { get; private set; }

    /// <summary>The shadow tensors by parameter name (live references: checkpointing reads and writes them).</summary>
    public IEnumerable<(string Name, Tensor Shadow)> Shadows => entries.Select(e => (e.Name, e.Shadow));

    /// <summary>The decay used for the next update, with LitEma's warm-up.</summary>
    public double CurrentDecay => Math.Min(decay, (1.0 + Updates + 1) / (10.0 + Updates + 1));

    public void Update()
    {
        var d = CurrentDecay;
        Updates++;
        using var _ = no_grad();
        foreach (var (_, parameter, shadow) in entries)
            shadow.sub_((1.0 - d) * (shadow - parameter));
    }

    /// <summary>Restores the counter when resuming from a checkpoint.</summary>
    public void RestoreUpdates(long updates)
    {
        if (updates < 0) throw new ArgumentOutOfRangeException(nameof(updates), updates, "EMA update count cannot be negative");
        Updates = updates;
    }

    /// <summary>Writes the averaged weights into a module with the same parameter names (e.g. for sampling or export).</summary>
    public void CopyTo(nn.Module target)
    {
        var parameters = target.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var _ = no_grad();
        foreach (var (name, _, shadow) in entries)
        {
            if (!parameters.TryGetValue(name, out var destination))
                throw new ArgumentException($"EMA target has no parameter '{name}'", nameof(target));
            destination.copy_(shadow);
        }
    }

    public void Dispose()
    {
        foreach (var entry in entries) entry.Shadow.Dispose();
        entries.Clear();
    }
}
