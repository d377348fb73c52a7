namespace SpectralDiffusion.Worker.Distributed;

/// <summary>Whether a process id on this machine belongs to a running (not exited, not zombie) process.</summary>
static class ProcessLiveness
{
    public static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        if (!OperatingSystem.IsLinux()) return true; // no cheap check: rely on the timeout
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) S ...": the state follows the last ')'.
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X' or 'x');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
