using System.Reflection;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>The dashboard's style sheet and script (Dashboard/Assets, embedded in the assembly): files, not inline blocks,
/// so the content-security policy needs no <c>'unsafe-inline'</c>.</summary>
public static class DashboardAssets
{
    static readonly Dictionary<string, (byte[] Content, string Type)> Files = new(StringComparer.Ordinal)
    {
        ["dashboard.css"] = (Read("dashboard.css"), "text/css; charset=utf-8"),
        ["dashboard.js"] = (Read("dashboard.js"), "text/javascript; charset=utf-8"),
        ["job-logs.js"] = (Read("job-logs.js"), "text/javascript; charset=utf-8"),
        ["job-live.js"] = (Read("job-live.js"), "text/javascript; charset=utf-8"),
    };

    public static IResult Serve(string name) =>
        Files.TryGetValue(name, out var file) ? Results.Bytes(file.Content, file.Type) : Results.NotFound();

    static byte[] Read(string name)
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith(".Dashboard.Assets." + name, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
