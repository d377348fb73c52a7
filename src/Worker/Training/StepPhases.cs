using System.Diagnostics;
using System.Globalization;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// Where a rank's training time goes: wall time per phase of a step, taken as laps (each <see cref="Lap"/> charges the
/// time since the previous lap to one phase). CPU tensor operations are synchronous, so a lap is the phase's real cost.
/// One instance belongs to one training loop (one thread).
/// </summary>
public sealed class StepPhases
{
    /// <summary>Waiting for the loader's batch, plus drawing the step's noise and timesteps.</summary>
    public const string Data = "data";
    /// <summary>The frozen teacher's forward pass (distillation only).</summary>
    public const string Teacher = "teacher";
    /// <summary>The student's forward pass and the loss terms.</summary>
    public const string Forward = "forward";
    public const string Backward = "backward";
    /// <summary>Gradient synchronisation: flattening into buckets, the all-reduce (including waiting for the peers) and copying back.</summary>
    public const string AllReduce = "all-reduce";
    /// <summary>Gradient clipping, the AdamW step and the EMA update.</summary>
    public const string Optimizer = "optimizer";
    /// <summary>The collection between steps that keeps memory flat (see <c>CollectionPause</c>).</summary>
    public const string Collection = "gc";
    /// <summary>Progress reports and checkpoints.</summary>
    public const string Reports = "reports";

    static readonly string[] Order = [Data, Teacher, Forward, Backward, AllReduce, Optimizer, Collection, Reports];
    readonly Dictionary<string, long> ticks = new();
    readonly List<double> stepMilliseconds = new();
    long last = Stopwatch.GetTimestamp();
    long stepStarted = Stopwatch.GetTimestamp();
    long runStarted = Stopwatch.GetTimestamp();
    TimeSpan processorAtStart = Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>Steps counted so far (the divisor of <see cref="Describe"/>).</summary>
    public long Steps { get; private set; }

    /// <summary>Starts the next lap now without charging the time since the last one to any phase.</summary>
    public void Restart()
    {
        last = stepStarted = runStarted = Stopwatch.GetTimestamp();
        processorAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    }

    /// <summary>CPU time of this process (all its threads) per wall second since <see cref="Restart"/>: 1.0 is one core kept busy.</summary>
    public double ProcessCoresBusy()
    {
        var wall = Stopwatch.GetElapsedTime(runStarted).TotalSeconds;
        return wall <= 0 ? 0 : (Process.GetCurrentProcess().TotalProcessorTime - processorAtStart).TotalSeconds / wall;
    }

    /// <summary>Charges the time since the previous lap to <paramref name="phase"/>.</summary>
    public void Lap(string phase)
    {
        var now = Stopwatch.GetTimestamp();
        ticks[phase] = ticks.GetValueOrDefault(phase) + (now - last);
        last = now;
    }

    /// <summary>Ends a step: its wall time is the time since the previous step ended (or <see cref="Restart"/>).</summary>
    public void CountStep()
    {
        Steps++;
        var now = Stopwatch.GetTimestamp();
        stepMilliseconds.Add((now - stepStarted) * 1000.0 / Stopwatch.Frequency);
        stepStarted = now;
    }

    /// <summary>Median wall time of the first and the last 10% of the steps so far (see the overload); NaN before 10 steps.</summary>
    public (double First, double Last) FirstAndLastTenthMilliseconds() => FirstAndLastTenthMilliseconds(stepMilliseconds);

    /// <summary>
    /// Median of the first and of the last 10% of <paramref name="stepMilliseconds"/> (count / 10 steps each, rounded
    /// down); NaN for both when there are fewer than 10 steps. A median, not a mean: one step slowed by a collection or
    /// the scheduler does not move it.
    /// </summary>
    public static (double First, double Last) FirstAndLastTenthMilliseconds(IReadOnlyList<double> stepMilliseconds)
    {
        if (stepMilliseconds.Count < 10) return (double.NaN, double.NaN);
        var tenth = stepMilliseconds.Count / 10;
        return (Median(stepMilliseconds.Take(tenth)), Median(stepMilliseconds.TakeLast(tenth)));
    }

    /// <summary>The middle value, or the mean of the two middle values of an even count (at least one value).</summary>
    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Milliseconds per step spent in <paramref name="phase"/>.</summary>
    public double MillisecondsPerStep(string phase) =>
        Steps == 0 ? 0 : ticks.GetValueOrDefault(phase) * 1000.0 / Stopwatch.Frequency / Steps;

    /// <summary>"data 1.2, teacher 30.5, ...; total 250.1 ms/step over N steps; median step time first 10% ..., last 10% ...", phases in step order.</summary>
    public string Describe()
    {
        var parts = Order.Concat(ticks.Keys.Except(Order)).Where(ticks.ContainsKey)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p} {MillisecondsPerStep(p):0.0}")).ToList();
        var total = ticks.Keys.Sum(MillisecondsPerStep);
        var (first, last) = FirstAndLastTenthMilliseconds();
        var drift = double.IsNaN(first) ? "" : string.Create(CultureInfo.InvariantCulture, $"; median step time first 10% {first:0.0} ms, last 10% {last:0.0} ms, last/first {last / first:0.000}");
        return string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", parts)}; total {total:0.0} ms/step over {Steps} steps; process CPU {ProcessCoresBusy():0.00} cores{drift}");
    }
}
