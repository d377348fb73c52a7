namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The estimated time left of a run from its remaining steps and its rate, formatted the same way by every progress
/// line: <c>hh:mm:ss</c>, with whole days in front once there are any (<c>1d 06:00:00</c>; a plain <c>hh:mm:ss</c>
/// format would drop them), and no overflow however far off the end is.
/// </summary>
public static class RemainingTime
{
    /// <summary>Longer estimates are shown as this (about 27 years): a rate that slow says more than its ETA.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(9999);

    /// <summary>Null where there is no rate yet or nothing is left to estimate.</summary>
    public static TimeSpan? Estimate(double remaining, double perSecond) =>
        perSecond > 0 && double.IsFinite(perSecond) && remaining > 0
            ? TimeSpan.FromSeconds(Math.Min(remaining / perSecond, Longest.TotalSeconds))
            : remaining <= 0 ? TimeSpan.Zero : null;

    public static string Format(TimeSpan? remaining) => remaining switch
    {
        null => "--:--:--",
        { } span when span >= Longest => $">{(int)Longest.TotalDays}d",
        { TotalDays: >= 1 } span => $"{(int)span.TotalDays}d {span:hh\\:mm\\:ss}",
        { } span => $"{span:hh\\:mm\\:ss}",
    };
}
