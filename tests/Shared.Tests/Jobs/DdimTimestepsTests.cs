using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class DdimTimestepsTests
{
    const int T = DdimTimesteps.TrainingTimesteps;

    public static TheoryData<int, int[]> CompVisGrids => new()
    {
        // np.asarray(list(range(0, 1000, 1000 // S))) + 1, written out
        { 1, [1] },
        { 10, [1, 101, 201, 301, 401, 501, 601, 701, 801, 901] },
        { 20, [1, 51, 101, 151, 201, 251, 301, 351, 401, 451, 501, 551, 601, 651, 701, 751, 801, 851, 901, 951] },
        { 50, [1, 21, 41, 61, 81, 101, 121, 141, 161, 181, 201, 221, 241, 261, 281, 301, 321, 341, 361, 381, 401, 421, 441, 461, 481,
               501, 521, 541, 561, 581, 601, 621, 641, 661, 681, 701, 721, 741, 761, 781, 801, 821, 841, 861, 881, 901, 921, 941, 961, 981] },
        { 3, [1, 334, 667, 1000] },
    };

    [Theory]
    [MemberData(nameof(CompVisGrids))]
    public void Uniform_T1000_EqualsCompVisGrid(int steps, int[] expected)
    {
        Assert.Equal(expected, DdimTimesteps.Uniform(T, steps));
    }

    [Fact]
    public void Uniform_T1000S1000_IsEveryTimestepShiftedUpToT()
    {
        Assert.Equal(Enumerable.Range(1, 1000), DdimTimesteps.Uniform(T, 1000));
    }

    [Fact]
    public void Problem_T1000_RefusesExactlyTheCountsWhoseGridReachesT()
    {
        // Refused for T = 1000: the 599 counts that put t = 1000 on the grid, one past the end of ᾱ (S = 3, 9, 27, 36–37,
        // 101–111, 251–333, 501–1000). The other 401 are accepted; of those, only the 15 divisors of 1000 below it give
        // exactly S timesteps, the rest give CompVis's longer grid (S = 6 → 7 timesteps, 30 → 31, 64 → 67, 334 → 500).
        int[] reachingT = [3, 9, 27, 36, 37, .. Enumerable.Range(101, 11), .. Enumerable.Range(251, 83), .. Enumerable.Range(501, 500)];
        int[] exact = [1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 125, 200, 250, 500];

        var refused = Enumerable.Range(1, T).Where(s => DdimTimesteps.Problem(T, s) is not null);
        var pastTheEnd = Enumerable.Range(1, T).Where(s => DdimTimesteps.Uniform(T, s)[^1] >= T);
        var accepted = Enumerable.Range(1, T).Where(s => DdimTimesteps.Problem(T, s) is null).ToArray();

        Assert.Equal(reachingT, refused);
        Assert.Equal(reachingT, pastTheEnd);
        Assert.All(reachingT, s => Assert.Contains($"t = {T}", DdimTimesteps.Problem(T, s)));
        Assert.Equal(401, accepted.Length);
        Assert.Equal(exact, accepted.Where(s => DdimTimesteps.Count(T, s) == s));
        Assert.Equal(31, DdimTimesteps.Count(T, 30));
        Assert.Equal(500, DdimTimesteps.Count(T, 334));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(999)]
    [InlineData(97)]
    [InlineData(64)]
    [InlineData(2)]
    public void Problem_AnyT_NullExactlyWhenTheGridStaysBelowT(int timesteps)
    {
        for (var steps = 1; steps <= timesteps; steps++)
        {
            var grid = DdimTimesteps.Uniform(timesteps, steps);
            var inside = grid.All(t => t >= 1 && t <= timesteps - 1);

            Assert.Equal(inside, DdimTimesteps.Problem(timesteps, steps) is null);
            Assert.Equal(timesteps % steps == 0, grid.Length == steps);
            Assert.Equal(grid.Length, DdimTimesteps.Count(timesteps, steps));
        }
    }

    [Fact]
    public void UsableNeighbours_EveryRefusedCount_AreTheNearestUsableOnEachSideAndNamedInTheProblem()
    {
        var usable = Enumerable.Range(1, T).Where(s => DdimTimesteps.Problem(T, s) is null).ToArray();

        foreach (var steps in Enumerable.Range(0, T + 2).Where(s => DdimTimesteps.Problem(T, s) is not null))
        {
            var (below, above) = DdimTimesteps.UsableNeighbours(T, steps);

            Assert.Equal(usable.Where(s => s < steps).Cast<int?>().LastOrDefault(), below);
            Assert.Equal(usable.Where(s => s > steps).Cast<int?>().FirstOrDefault(), above);
            Assert.True(below is not null || above is not null, $"S = {steps} has no usable neighbour");
            var expected = string.Join(" or ", new[] { below, above }.OfType<int>());
            Assert.Contains($"use {expected} (", DdimTimesteps.Problem(T, steps));
        }
    }

    [Theory]
    [InlineData(3, "use 2 or 4")]
    [InlineData(999, "use 500 (")]
    [InlineData(1000, "use 500 (")]
    [InlineData(0, "must be at least 1; use 1 (")]
    [InlineData(-7, "must be at least 1; use 1 (")]
    [InlineData(1001, "must be below the schedule's 1000 timesteps; use 500 (")]
    [InlineData(int.MaxValue, "must be below the schedule's 1000 timesteps; use 500 (")]
    [InlineData(int.MinValue, "must be at least 1; use 1 (")]
    public void Problem_RefusedCount_SuggestsUsableNeighbours(int steps, string expected)
    {
        Assert.Contains(expected, DdimTimesteps.Problem(T, steps));
    }

    [Fact]
    public void Problem_ScheduleOfOneTimestep_SaysNoCountFits()
    {
        Assert.Contains("no step count fits", DdimTimesteps.Problem(1, 1));
    }

    [Theory]
    [InlineData(1000, 0)]
    [InlineData(1000, 1001)]
    [InlineData(0, 1)]
    public void Uniform_NoStrideOrNoSchedule_Throws(int timesteps, int steps)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DdimTimesteps.Uniform(timesteps, steps));
    }
}
