using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>What can be checked of the NCCL binding without a GPU: layout, enum values, error mapping, and the unavailable path.</summary>
public class NcclBindingTests
{
    [Fact]
    public void NcclUniqueId_Layout_Is128BytesManagedAndNative()
    {
        Assert.Equal(128, Unsafe.SizeOf<NcclUniqueId>());
        Assert.Equal(128, Marshal.SizeOf<NcclUniqueId>());
    }

    [Fact]
    public void NcclUniqueId_FromBytesThenToArray_RoundTrips()
    {
        // Arrange
        var bytes = Enumerable.Range(0, 128).Select(i => (byte)(i * 7 + 3)).ToArray();

        // Act
        var id = NcclUniqueId.FromBytes(bytes);

        // Assert
        Assert.Equal(bytes, id.ToArray());
    }

    [Fact]
    public void NcclUniqueId_WrongLength_ThrowsNamingLengths()
    {
        var error = Assert.Throws<ArgumentException>(() => NcclUniqueId.FromBytes(new byte[127]));
        Assert.Contains("128", error.Message);
        Assert.Contains("127", error.Message);
    }

    [Theory]
    [InlineData(ScalarType.Float32, NcclDataType.Float32, 7)]
    [InlineData(ScalarType.Float64, NcclDataType.Float64, 8)]
    [InlineData(ScalarType.Float16, NcclDataType.Float16, 6)]
    [InlineData(ScalarType.BFloat16, NcclDataType.BFloat16, 9)]
    [InlineData(ScalarType.Int64, NcclDataType.Int64, 4)]
    [InlineData(ScalarType.Int32, NcclDataType.Int32, 2)]
    [InlineData(ScalarType.Int8, NcclDataType.Int8, 0)]
    [InlineData(ScalarType.Byte, NcclDataType.UInt8, 1)]
    public void NcclDataTypes_TorchDtype_MapsToNcclHeaderValue(ScalarType dtype, NcclDataType expected, int headerValue)
    {
        var mapped = NcclDataTypes.Of(dtype);

        Assert.Equal(expected, mapped);
        Assert.Equal(headerValue, (int)mapped);
    }

    [Theory]
    [InlineData(ScalarType.Bool)]
    [InlineData(ScalarType.ComplexFloat32)]
    [InlineData(ScalarType.Int16)]
    public void NcclDataTypes_UnsupportedDtype_ThrowsNamingIt(ScalarType dtype)
    {
        var error = Assert.Throws<ArgumentException>(() => NcclDataTypes.Of(dtype));
        Assert.Contains(dtype.ToString(), error.Message);
    }

    [Theory]
    [InlineData(NcclResult.UnhandledCudaError, 1, "ncclUnhandledCudaError", "CUDA")]
    [InlineData(NcclResult.SystemError, 2, "ncclSystemError", "system call")]
    [InlineData(NcclResult.InternalError, 3, "ncclInternalError", "internal")]
    [InlineData(NcclResult.InvalidArgument, 4, "ncclInvalidArgument", "argument")]
    [InlineData(NcclResult.InvalidUsage, 5, "ncclInvalidUsage", "inconsistently")]
    [InlineData(NcclResult.RemoteError, 6, "ncclRemoteError", "remote rank")]
    public void NcclException_FailedResult_NamesCallResultAndMeaning(NcclResult result, int code, string name, string meaning)
    {
        // Act
        var error = Assert.Throws<NcclException>(() => NcclException.ThrowIfFailed(result, "ncclAllReduce(10 x Float32, Sum)", _ => "library text"));

        // Assert
        Assert.Equal(code, (int)result);
        Assert.Equal(result, error.Result);
        Assert.IsAssignableFrom<CollectiveException>(error);
        Assert.StartsWith("ncclAllReduce(10 x Float32, Sum) failed with " + name, error.Message);
        Assert.Contains(meaning, error.Message);
        Assert.Contains("\"library text\"", error.Message);
    }

    [Fact]
    public void NcclException_Success_DoesNotThrow()
    {
        NcclException.ThrowIfFailed(NcclResult.Success, "ncclGetVersion", _ => throw new InvalidOperationException("must not be asked"));
    }

    [Fact]
    public void NcclException_UnknownCode_NamesTheNumber()
    {
        var error = NcclException.From("ncclBroadcast", (NcclResult)42);
        Assert.Contains("ncclResult_t 42", error.Message);
    }

    [Fact]
    public void NcclLibrary_Missing_ThrowsUnavailableNamingLibraryAndTcpBackend()
    {
        var error = Assert.Throws<NcclUnavailableException>(() => NcclLibrary.Load("libnccl-not-installed.so.2"));

        Assert.Contains("libnccl-not-installed.so.2 could not be loaded", error.Message);
        Assert.Contains("libnccl.so.2", error.Message);
        Assert.Contains("CUDA", error.Message);
        Assert.Contains("tcp backend", error.Message);
    }

    [Fact]
    public async Task CollectivesCreate_Nccl_StartsOrSaysWhatIsMissing()
    {
        // Arrange: CI has no GPU, so this shows the unavailable path; on a node with CUDA and libnccl.so.2 a group of one starts.
        TorchRuntime.EnsureLoaded();
        var rendezvous = new FileRendezvous(Path.Combine(Path.GetTempPath(), $"sd-nccl-{Guid.NewGuid():N}"));

        // Act
        var started = await Record.ExceptionAsync(async () =>
        {
            using var collective = await Collectives.CreateAsync("nccl", 0, 1, rendezvous, "run", TimeSpan.FromSeconds(30));
            Assert.Equal(1, collective.WorldSize);
        });

        // Assert
        if (started is null) return;
        var unavailable = Assert.IsType<NcclUnavailableException>(started);
        Assert.Contains(cuda.is_available() ? "libnccl.so.2 could not be loaded" : "no CUDA device", unavailable.Message);
        Assert.Contains("tcp backend", unavailable.Message);
    }

    [Fact]
    public async Task CollectivesCreate_UnknownBackend_ThrowsNamingItAndTheChoices()
    {
        var rendezvous = new FileRendezvous(Path.Combine(Path.GetTempPath(), $"sd-nccl-{Guid.NewGuid():N}"));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Collectives.CreateAsync("gloo", 0, 1, rendezvous, "run", TimeSpan.FromSeconds(5)));

        Assert.Contains("'gloo'", error.Message);
        Assert.Contains("\"tcp\"", error.Message);
        Assert.Contains("\"nccl\"", error.Message);
    }
}
