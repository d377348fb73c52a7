namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The timesteps a DDIM sampler of S steps visits on a schedule of T steps, with the "uniform" discretisation of CompVis
/// latent-diffusion (<c>make_ddim_timesteps</c>): <c>range(0, T, T // S) + 1</c>. That grid has exactly S entries
/// when S divides T; for any other S it has more (S = 30 of 1000: 31 network evaluations, as in CompVis, see
/// <see cref="Count"/>), and for many its last entry is T itself, one past the end of ᾱ (S = 3 of 1000: 1, 334, 667,
/// 1000), where CompVis fails with an index error. <see cref="Problem"/> refuses those counts, so a job spec, the
/// sampling CLI and the sampler agree on one grid.
/// </summary>
public static class DdimTimesteps
{
    /// <summary>T of the noise schedule every job trains and samples with (LDM's linear schedule).</summary>
    public const int TrainingTimesteps = 1000;

    /// <summary>
    /// CompVis's uniform grid <c>range(0, T, T // S) + 1</c>, ascending, as it is: it may have more than
    /// <paramref name="steps"/> entries and may reach T (see <see cref="Problem"/>).
    /// </summary>
    public static int[] Uniform(int timesteps, int steps)
    {
        RequirePositive(timesteps);
        if (steps < 1 || steps > timesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"the uniform DDIM grid needs 1 to {timesteps} steps (the stride T // S must be at least 1)");
        var stride = timesteps / steps;
        return Enumerable.Range(0, GridLength(timesteps, stride)).Select(i => i * stride + 1).ToArray();
    }

    /// <summary>How many timesteps (network evaluations per sample) the grid of <paramref name="steps"/> has: S when S divides T, more otherwise.</summary>
    public static int Count(int timesteps, int steps) => Uniform(timesteps, steps).Length;

    /// <summary>
    /// Null when CompVis's uniform grid for <paramref name="steps"/> lies inside [1, T − 1]; otherwise why not, with the
    /// nearest usable step counts below and above.
    /// </summary>
    public static string? Problem(int timesteps, int steps)
    {
        RequirePositive(timesteps);
        if (IsUsable(timesteps, steps)) return null;
        if (steps < 1) return $"must be at least 1{Suggestion(timesteps, steps)}";
        if (steps > timesteps) return $"must be below the schedule's {timesteps} timesteps{Suggestion(timesteps, steps)}";
        var (length, last) = LengthAndLast(timesteps, steps);
        return $"the uniform DDIM grid range(0, {timesteps}, {timesteps} // {steps}) + 1 of CompVis has {length} timesteps "
            + $"and its last one, t = {last}, lies outside [1, {timesteps - 1}]" + Suggestion(timesteps, steps);
    }

    /// <summary>The nearest usable step counts strictly below and above <paramref name="steps"/> (null where there is none).</summary>
    public static (int? Below, int? Above) UsableNeighbours(int timesteps, int steps)
    {
        RequirePositive(timesteps);
        int? below = null, above = null;
        for (var s = steps <= 1 ? 0 : Math.Min(steps - 1, timesteps); s >= 1 && below is null; s--)
            if (IsUsable(timesteps, s)) below = s;
        for (var s = steps >= timesteps ? timesteps + 1 : Math.Max(steps + 1, 1); s <= timesteps && above is null; s++)
            if (IsUsable(timesteps, s)) above = s;
        return (below, above);
    }

    static string Suggestion(int timesteps, int steps)
    {
        var (below, above) = UsableNeighbours(timesteps, steps);
        var usable = new[] { below, above }.OfType<int>().ToArray();
        return usable.Length == 0
            ? $"; no step count fits a schedule of {timesteps} timesteps"
            : $"; use {string.Join(" or ", usable)} (a count whose grid stays below t = {timesteps}; a divisor of {timesteps} gives exactly that many steps)";
    }

    /// <summary>Whether the grid of <paramref name="steps"/> stays below T.</summary>
    static bool IsUsable(int timesteps, int steps) =>
        steps >= 1 && steps <= timesteps && LengthAndLast(timesteps, steps).Last <= timesteps - 1;

    /// <summary>len(range(0, T, T // S)) and the last entry of the grid (+1 included), without building it.</summary>
    static (int Length, int Last) LengthAndLast(int timesteps, int steps)
    {
        var stride = timesteps / steps;
        var length = GridLength(timesteps, stride);
        return (length, (length - 1) * stride + 1);
    }

    /// <summary>len(range(0, T, stride)).</summary>
    static int GridLength(int timesteps, int stride) => (timesteps + stride - 1) / stride;

    static void RequirePositive(int timesteps)
    {
        if (timesteps < 1) throw new ArgumentOutOfRangeException(nameof(timesteps), timesteps, "a diffusion schedule needs at least 1 timestep");
    }
}
