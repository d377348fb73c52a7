namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The names of what an evaluation writes: its files (the worker writes them, the dashboard shows them) and the keys of its
/// extra numbers (the worker records them; the dashboard, the CLI and the sweep report read them). Gate keys: <see cref="GateSeriesKeys"/>.
/// </summary>
public static class EvaluationArtifacts
{
    /// <summary>The folder, under the job's work directory, that holds the evaluation's pictures.</summary>
    public const string Folder = "evaluation";

    /// <summary>The outcome as JSON (standalone runs).</summary>
    public const string OutcomeFile = "evaluation.json";

    /// <summary>The frequency errors of <c>worker evaluate spectrum</c> as JSON.</summary>
    public const string FrequencyErrorsFile = "frequency-errors.json";

    public const string SampleGrid = "samples.png", GatePlot = "gates.png", SpectrumPlot = "power-spectrum.png";

    /// <summary>Parameters of the evaluated UNet.</summary>
    public const string ParamsMetric = "params";

    /// <summary>Multiply-adds of one forward pass at the preset's image size.</summary>
    public const string MacsMetric = "macs";

    /// <summary>The radius (in frequency bins) that splits low from high frequencies.</summary>
    public const string CutoffMetric = "cutoff";

    /// <summary>Generated over real power above the cut-off: 1 is a perfect match.</summary>
    public const string HighFrequencyPowerRatioMetric = "high_frequency_power_ratio";
}
