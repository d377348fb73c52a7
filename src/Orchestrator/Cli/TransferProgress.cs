using System.Diagnostics;
using System.Globalization;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>
/// A download's progress on stderr. On a terminal one line is redrawn in place (bar, percent, bytes, rate) at most ten
/// times a second; redirected (a log file, CI), nothing is written until the end, then one plain line, so logs never fill
/// with carriage returns.
/// </summary>
public sealed class TransferProgress(string name, long total, TextWriter writer, bool interactive)
{
    const int BarWidth = 30;
    readonly Stopwatch clock = Stopwatch.StartNew();
    TimeSpan drawnAt = TimeSpan.MinValue;

    public static TransferProgress OnStandardError(string name, long total) => new(name, total, Console.Error, !Console.IsErrorRedirected);

    public void Report(long received)
    {
        if (!interactive || clock.Elapsed - drawnAt < TimeSpan.FromMilliseconds(100)) return;
        drawnAt = clock.Elapsed;
        var fraction = total > 0 ? (double)received / total : 1;
        var filled = (int)Math.Round(fraction * BarWidth);
        writer.Write($"\r{name} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {fraction * 100,3:0}% {Size(received)}/{Size(total)} {Rate(received)}   ");
    }

    public void Complete(long received)
    {
        if (interactive) writer.Write('\r');
        writer.WriteLine($"{name}: {Size(received)} in {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s ({Rate(received)})");
    }

    string Rate(long bytes) => Size((long)(bytes / Math.Max(clock.Elapsed.TotalSeconds, 1e-3))) + "/s";

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0 KiB", CultureInfo.InvariantCulture),
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.0 MiB", CultureInfo.InvariantCulture),
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.00 GiB", CultureInfo.InvariantCulture),
    };
}
