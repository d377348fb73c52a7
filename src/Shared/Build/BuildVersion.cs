using System.Reflection;

namespace SpectralDiffusion.Shared.Build;

/// <summary>
/// The version every executable of one build reports (<c>--version</c>, worker registration, the workers list): the
/// repository's <c>VersionPrefix</c> plus the commit it was built from, e.g. <c>0.9.0+3f2a…</c>, so that version skew
/// between the orchestrator and its workers shows.
/// </summary>
public static class BuildVersion
{
    public static string Of(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString()
        ?? "unknown";
}
