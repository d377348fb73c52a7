namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>Polls a condition that background loops make true; fails with the last observed value after the timeout.</summary>
public static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var value = await probe();
            if (condition(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what ?? "condition"} not reached; last value: {value}");
            await Task.Delay(50);
        }
    }
}
