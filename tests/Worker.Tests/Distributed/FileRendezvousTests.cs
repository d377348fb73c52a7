using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Tests.Distributed;

public sealed class FileRendezvousTests : IDisposable
{
    readonly string directory = Path.Combine(Path.GetTempPath(), $"sd-rendezvous-{Guid.NewGuid():N}");

    [Fact]
    public async Task GetAsync_KeyNeverPut_ThrowsTimeoutNamingKey()
    {
        // Arrange
        var rendezvous = new FileRendezvous(directory);

        // Act
        var error = await Assert.ThrowsAsync<TimeoutException>(() => rendezvous.GetAsync("job-7/attempt-2/tcp/rank-3", TimeSpan.FromMilliseconds(200), CancellationToken.None));

        // Assert
        Assert.Contains("'job-7/attempt-2/tcp/rank-3'", error.Message);
    }

    [Fact]
    public async Task GetAsync_PutLater_ReturnsTheValueOnceItArrives()
    {
        // Arrange
        var rendezvous = new FileRendezvous(directory);
        var waiting = rendezvous.GetAsync("run/nccl/unique-id", TimeSpan.FromSeconds(20), CancellationToken.None);

        // Act
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted, "the get must wait for the put");
        await rendezvous.PutAsync("run/nccl/unique-id", [1, 2, 3], CancellationToken.None);

        // Assert
        Assert.Equal([1, 2, 3], await waiting);
    }

    [Fact]
    public async Task PutAsync_SameKeyTwice_GetSeesTheLatestAndNoTemporaryFileRemains()
    {
        // Arrange
        var rendezvous = new FileRendezvous(directory);

        // Act
        await rendezvous.PutAsync("a/b", [1], CancellationToken.None);
        await rendezvous.PutAsync("a/b", [2, 2], CancellationToken.None);

        // Assert
        Assert.Equal([2, 2], await rendezvous.GetAsync("a/b", TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(["b"], Directory.GetFiles(Path.Combine(directory, "a")).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a//b")]
    [InlineData("a/b c")]
    public async Task PutAsync_InvalidKey_ThrowsNamingKey(string key)
    {
        // Arrange
        var rendezvous = new FileRendezvous(directory);

        // Act
        var error = await Assert.ThrowsAsync<ArgumentException>(() => rendezvous.PutAsync(key, [1], CancellationToken.None));

        // Assert
        Assert.Contains($"'{key}'", error.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }
}
