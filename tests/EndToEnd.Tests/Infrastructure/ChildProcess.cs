using System.Diagnostics;
using System.Text;

namespace SpectralDiffusion.EndToEnd.Tests.Infrastructure;

/// <summary>A real process of one of the project's executables (beside this test assembly), its output kept for failure messages.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();

    ChildProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    public string Name { get; }
    public int Id => process.Id;
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;

    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    /// <summary>
    /// Starts <c>dotnet &lt;assembly&gt;.dll args</c> from the test output folder; with <paramref name="launcher"/>, as
    /// <c>launcher… dotnet …</c> (a command that ends by exec-ing the rest, so the process id stays the program's).
    /// </summary>
    public static ChildProcess Start(string name, string assembly, IEnumerable<string> arguments, IDictionary<string, string>? environment = null,
        IReadOnlyList<string>? launcher = null)
    {
        var start = new ProcessStartInfo(launcher?[0] ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var part in launcher?.Skip(1).Append("dotnet") ?? []) start.ArgumentList.Add(part);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (output) output.AppendLine(line);
    }

    /// <summary>SIGKILL: the process gets no chance to clean up (a crashed node).</summary>
    public void KillHard()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
    }

    public Task WaitForExitAsync() => process.WaitForExitAsync();

    /// <summary>SIGTERM, then wait for a clean exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!process.HasExited) Process.Start("kill", ["-TERM", process.Id.ToString()])?.WaitForExit();
        using var limit = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) { KillHard(); }
        return process.HasExited ? process.ExitCode : -1;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            KillHard();
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
