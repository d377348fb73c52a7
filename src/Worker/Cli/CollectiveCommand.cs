using System.CommandLine;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>
/// Hidden <c>worker collective selftest</c>: one rank of a tcp ring (or, with --shared-memory, of a shared-memory group) between real processes, meeting in a rendezvous directory.
/// Rank r all-reduces i·(r+1) for i in 0..N−1 (int64) and checks the exact sum i·W(W+1)/2; used by the multi-process tests.
/// With --registered the tensor lives in the group's registered shared memory and is all-reduced in place there.
/// </summary>
public static class CollectiveCommand
{
    public static Command Create()
    {
        var rank = new Option<int>("--rank") { Required = true, Description = "this process's rank, 0..world-1" };
        var world = new Option<int>("--world") { Required = true, Description = "number of ranks" };
        var directory = new Option<string>("--rendezvous") { Required = true, Description = "a directory every rank can read and write (FileRendezvous)" };
        var elements = new Option<int>("--elements") { DefaultValueFactory = _ => 1_000_003, Description = "int64 elements per all-reduce" };
        var repeat = new Option<int>("--repeat") { DefaultValueFactory = _ => 1, Description = "how many all-reduces to run" };
        var timeout = new Option<double>("--timeout-s") { DefaultValueFactory = _ => 30, Description = "collective timeout in seconds" };
        var sharedMemory = new Option<bool>("--shared-memory") { Description = "exchange through shared memory when every rank is on this machine (else the tcp ring only)" };
        var advertise = new Option<string?>("--advertise") { Description = "listen on every interface and give peers this address (ranks on other machines); default: loopback only" };
        var registered = new Option<bool>("--registered") { Description = "with --shared-memory, all-reduce a tensor in the group's registered shared memory (no staging copies)" };
        var selftest = new Command("selftest", "All-reduce a known int64 tensor over the tcp ring and check the exact sum.")
        {
            rank, world, directory, elements, repeat, timeout, sharedMemory, registered, advertise,
        };
        selftest.SetAction(parse => SelfTest(parse.GetValue(rank), parse.GetValue(world), parse.GetValue(directory)!, parse.GetValue(elements),
            parse.GetValue(repeat), TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(sharedMemory), parse.GetValue(registered),
            parse.GetValue(advertise)));
        return new Command("collective", "Diagnostics of the distributed collectives.") { Hidden = true, Subcommands = { selftest } };
    }

    static int SelfTest(int rank, int world, string directory, int elements, int repeat, TimeSpan timeout, bool sharedMemory, bool registered, string? advertise)
    {
        TorchRuntime.EnsureLoaded();
        try
        {
            using var ring = Collectives.ConnectCpuAsync(rank, world, new FileRendezvous(directory), "selftest",
                new TcpRingOptions
                {
                    Timeout = timeout, SharedMemoryOnOneHost = sharedMemory, AdvertisedHost = advertise,
                    BindAddress = advertise is null ? System.Net.IPAddress.Loopback : System.Net.IPAddress.Any,
                }).GetAwaiter().GetResult();
            Console.WriteLine($"rank {rank} of {world}: {Collectives.Describe(ring)} connected");
            using var buffer = registered ? RegisteredBuffer(ring, elements) : null;
            if (buffer is null && registered) return 1;
            for (var round = 1; round <= repeat; round++)
            {
                using var scope = NewDisposeScope();
                var values = arange(elements, dtype: ScalarType.Int64).mul(rank + 1);
                if (buffer is not null)
                {
                    buffer.copy_(values);
                    ((IRegisteredBuffers)ring).AllReduceSumRegistered(buffer);
                    values = buffer.clone();
                }
                else
                {
                    ring.AllReduceSum(values);
                }
                var expected = arange(elements, dtype: ScalarType.Int64).mul((long)world * (world + 1) / 2);
                if (!values.eq(expected).all().item<bool>())
                {
                    Console.Error.WriteLine($"rank {rank}: all-reduce #{round} gave a wrong sum");
                    return 1;
                }
                Console.WriteLine($"rank {rank}: all-reduce #{round} of {elements} int64 exact (sum {values.sum().item<long>()})");
            }
            return 0;
        }
        catch (CollectiveException e)
        {
            Console.Error.WriteLine($"rank {rank}: collective failed: {e.Message}");
            return 3;
        }
    }

    static Tensor? RegisteredBuffer(ICollective collective, int elements)
    {
        var buffer = collective is IRegisteredBuffers { RegisteredBytes: > 0 } registered ? registered.TryAllocateRegistered(ScalarType.Int64, elements) : null;
        if (buffer is null) Console.Error.WriteLine($"rank {collective.Rank}: {collective.GetType().Name} has no registered memory for {elements} int64 elements");
        else Console.WriteLine($"rank {collective.Rank}: all-reducing in registered memory");
        return buffer;
    }
}
