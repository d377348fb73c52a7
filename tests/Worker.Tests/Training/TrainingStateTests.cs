using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

public class TrainingStateTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sd-state-").FullName;

    public TrainingStateTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    static TrainingState Sample()
    {
        manual_seed(11);
        return new TrainingState
        {
            Step = 40, Seed = 7, EmaUpdates = 40,
            Info = new Dictionary<string, string> { ["preset"] = "tiny-sd" },
            Tensors = new Dictionary<string, Tensor>
            {
                ["model.a"] = randn(3, 4), ["model.b"] = randn(5), ["ema.a"] = randn(3, 4),
                ["optim.a.exp_avg"] = randn(3, 4), ["optim.a.step"] = tensor(new long[] { 40 }), ["model.c"] = randn(2, 2, 1, 1, dtype: ScalarType.Float64),
            },
        };
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void WriteShards_ThenReadShards_ReproducesEveryTensorBitExactly(int worldSize)
    {
        var state = Sample();
        var paths = Enumerable.Range(0, worldSize).Select(r => Path.Combine(directory, $"shard-{r}.safetensors")).ToList();

        for (int rank = 0; rank < worldSize; rank++) state.WriteShard(paths[rank], rank, worldSize);
        var merged = TrainingState.ReadShards(paths.AsEnumerable().Reverse().ToList());

        Assert.Equal(40, merged.Step);
        Assert.Equal(7, merged.Seed);
        Assert.Equal("tiny-sd", merged.Info["preset"]);
        Assert.Equal(state.Tensors.Keys.Order(), merged.Tensors.Keys.Order());
        foreach (var (name, tensor) in state.Tensors)
        {
            Assert.Equal(tensor.dtype, merged.Tensors[name].dtype);
            Assert.Equal(tensor.shape, merged.Tensors[name].shape);
            Assert.True(tensor.eq(merged.Tensors[name]).all().item<bool>(), name);
        }
    }

    [Fact]
    public void ReadShards_MissingRank_ThrowsNamingIt()
    {
        var state = Sample();
        var path = Path.Combine(directory, "shard-0.safetensors");
        state.WriteShard(path, 0, 3);

        var error = Assert.Throws<InvalidDataException>(() => TrainingState.ReadShards(new[] { path }));

        Assert.Contains("1, 2", error.Message);
    }

    [Fact]
    public void ReadShards_TruncatedFile_ThrowsNamingTheFile()
    {
        var path = Path.Combine(directory, "shard-0.safetensors");
        Sample().WriteShard(path, 0, 1);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);

        var error = Assert.Throws<CheckpointFormatException>(() => TrainingState.ReadShards(new[] { path }));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void ReadShards_NaNInEmaTensor_ThrowsNamingTensorAndFile()
    {
        var state = Sample();
        state.Tensors["ema.a"][1, 2] = float.NaN;
        var path = Path.Combine(directory, "shard-0.safetensors");
        state.WriteShard(path, 0, 1);

        var error = Assert.Throws<CheckpointFormatException>(() => TrainingState.ReadShards(new[] { path }));

        Assert.Contains("ema.a", error.Message);
        Assert.Contains(path, error.Message);
    }
}
