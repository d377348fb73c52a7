using System.Diagnostics;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>A one-line progress display on stderr (so --json output on stdout stays clean): done/total, rate and ETA.</summary>
public sealed class ConsoleProgress(string label, string unit, TextWriter? output = null)
{
    readonly TextWriter output = output ?? Console.Error;
    readonly Stopwatch clock = Stopwatch.StartNew();
    TimeSpan? lastDrawn;

    public void Report(long done, long total)
    {
        var elapsed = clock.Elapsed;
        if (done < total && lastDrawn is { } last && elapsed - last < TimeSpan.FromMilliseconds(250)) return;
        lastDrawn = elapsed;
        var rate = done / Math.Max(elapsed.TotalSeconds, 1e-9);
        var eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        output.Write($"\r{label}: {done}/{total} {unit}  {rate:F1} {unit}/s  ETA {eta:hh\\:mm\\:ss}   ");
        if (done >= total) output.WriteLine();
    }
}
