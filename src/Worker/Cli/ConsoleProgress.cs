using System.Diagnostics;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>
/// A progress display on stderr (so --json output on stdout stays clean): done/total, rate and ETA. On a terminal it
/// redraws one line with <c>\r</c>; where stderr is redirected (a log file, a container's log) it writes a plain line at
/// most every <see cref="RedirectedInterval"/>, so logs hold no carriage returns.
/// </summary>
public sealed class ConsoleProgress(string label, string unit, TextWriter? output = null, bool? terminal = null)
{
    public static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan RedirectedInterval = TimeSpan.FromSeconds(10);

    readonly TextWriter output = output ?? Console.Error;
    readonly bool terminal = terminal ?? (output is null && !Console.IsErrorRedirected);
    readonly Stopwatch clock = Stopwatch.StartNew();
    TimeSpan? lastDrawn;

    public void Report(long done, long total)
    {
        var elapsed = clock.Elapsed;
        var interval = terminal ? TerminalInterval : RedirectedInterval;
        if (done < total && lastDrawn is { } last && elapsed - last < interval) return;
        lastDrawn = elapsed;
        var rate = done / Math.Max(elapsed.TotalSeconds, 1e-9);
        var line = $"{label}: {done}/{total} {unit}  {rate:F1} {unit}/s  ETA {RemainingTime.Format(RemainingTime.Estimate(total - done, rate))}";
        if (!terminal) output.WriteLine(line);
        else
        {
            output.Write($"\r{line}   ");
            if (done >= total) output.WriteLine();
        }
    }
}
