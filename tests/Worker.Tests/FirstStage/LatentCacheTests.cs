using Serilog;
using Serilog.Core;
using Serilog.Events;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.FirstStage;

public sealed class LatentCacheTests : IDisposable
{
    readonly TemporaryFolder folder = new();
    readonly Autoencoder model;
    readonly ProceduralTextureDataset dataset = new(10, 16, seed: 4);
    readonly LatentCache.Key key = new("procedural seed=4 count=10", "tiny-kl sha256=test", "16px resize+centre-crop");
    readonly Warnings warnings = new();
    int encoderCalls;

    public LatentCacheTests()
    {
        TorchRuntime.EnsureLoaded();
        manual_seed(6);
        model = new Autoencoder(AutoencoderPresets.TinyKl());
        model.eval();
    }

    public void Dispose()
    {
        model.Dispose();
        folder.Dispose();
    }

    Tensor CountingEncode(Tensor images)
    {
        encoderCalls++;
        return model.Moments(images);
    }

    LatentCache Cache() => new(folder.Path, new LoggerConfiguration().WriteTo.Sink(warnings).CreateLogger());

    [Fact]
    public void GetOrBuild_MissThenHit_EncodesOnceAndReadsTheSameLatents()
    {
        // Act
        var (built, builtLabels) = Cache().GetOrBuild(key, dataset, CountingEncode, shardSize: 4, encodeBatch: 2);
        var callsOnMiss = encoderCalls;
        var (cached, cachedLabels) = Cache().GetOrBuild(key, dataset, CountingEncode, shardSize: 4, encodeBatch: 2);

        // Assert
        Assert.Equal(5, callsOnMiss);                            // 10 images in batches of 2
        Assert.Equal(callsOnMiss, encoderCalls);                 // the hit never ran the encoder
        Assert.Equal(new long[] { 10, 6, 8, 8 }, cached.shape);  // KL moments: mean and log-variance of 3 channels at 16/2
        Assert.True(cached.equal(built).all().item<bool>());
        Assert.True(cachedLabels.equal(builtLabels).all().item<bool>());
        using var _ = no_grad();
        Assert.True(cached.narrow(0, 4, 2).allclose(model.Moments(dataset.GetRange(4, 2)), rtol: 1e-5, atol: 1e-6));
        Assert.Empty(warnings.Events);
    }

    [Fact]
    public void GetOrBuild_CorruptShard_RebuildsOnlyThatShardWithAWarning()
    {
        // Arrange
        var (built, _) = Cache().GetOrBuild(key, dataset, CountingEncode, shardSize: 4, encodeBatch: 2);
        var shard = Path.Combine(folder.Path, key.Id, "shard-00001.safetensors");
        var bytes = File.ReadAllBytes(shard);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(shard, bytes);
        encoderCalls = 0;

        // Act
        var (rebuilt, _) = Cache().GetOrBuild(key, dataset, CountingEncode, shardSize: 4, encodeBatch: 2);

        // Assert
        Assert.Equal(2, encoderCalls);                           // shard 1 holds images 4..7: two batches
        Assert.True(rebuilt.allclose(built));
        var warning = Assert.Single(warnings.Events);
        Assert.Contains("corrupt", warning.RenderMessage());
        Assert.Contains("shard-00001.safetensors", warning.RenderMessage());
        encoderCalls = 0;
        Cache().GetOrBuild(key, dataset, CountingEncode, shardSize: 4, encodeBatch: 2);
        Assert.Equal(0, encoderCalls);                           // the repaired manifest is a hit again
    }

    [Fact]
    public void ListAndDelete_OneCachedDataset_AreListedThenGone()
    {
        Cache().GetOrBuild(key, dataset, CountingEncode, shardSize: 4, encodeBatch: 5);

        var listed = Assert.Single(LatentCache.List(folder.Path));
        Assert.Equal(key.Id, listed.Id);
        Assert.Equal(10, listed.Count);
        Assert.True(LatentCache.Delete(folder.Path, key.Id));
        Assert.Empty(LatentCache.List(folder.Path));
        Assert.False(LatentCache.Delete(folder.Path, key.Id));
    }

    sealed class Warnings : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];

        public void Emit(LogEvent logEvent)
        {
            if (logEvent.Level >= LogEventLevel.Warning) Events.Add(logEvent);
        }
    }
}
