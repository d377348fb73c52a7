using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary><c>ncclResult_t</c> (nccl.h).</summary>
public enum NcclResult
{
    Success = 0,
    UnhandledCudaError = 1,
    SystemError = 2,
    InternalError = 3,
    InvalidArgument = 4,
    InvalidUsage = 5,
    RemoteError = 6,
    InProgress = 7,
}

/// <summary><c>ncclDataType_t</c> (nccl.h; BFloat16 since NCCL 2.10).</summary>
public enum NcclDataType
{
    Int8 = 0,
    UInt8 = 1,
    Int32 = 2,
    UInt32 = 3,
    Int64 = 4,
    UInt64 = 5,
    Float16 = 6,
    Float32 = 7,
    Float64 = 8,
    BFloat16 = 9,
}

/// <summary><c>ncclRedOp_t</c> (nccl.h).</summary>
public enum NcclReduction
{
    Sum = 0,
    Product = 1,
    Max = 2,
    Min = 3,
    Average = 4,
}

/// <summary>Which NCCL element type carries each torch dtype.</summary>
public static class NcclDataTypes
{
    public static NcclDataType Of(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => NcclDataType.Float32,
        ScalarType.Float64 => NcclDataType.Float64,
        ScalarType.Float16 => NcclDataType.Float16,
        ScalarType.BFloat16 => NcclDataType.BFloat16,
        ScalarType.Int64 => NcclDataType.Int64,
        ScalarType.Int32 => NcclDataType.Int32,
        ScalarType.Int8 => NcclDataType.Int8,
        ScalarType.Byte => NcclDataType.UInt8,
        _ => throw new ArgumentException($"NCCL has no element type for torch dtype {dtype} (use Float32, Float64, Float16, BFloat16, Int64, Int32, Int8 or Byte)", nameof(dtype)),
    };
}
