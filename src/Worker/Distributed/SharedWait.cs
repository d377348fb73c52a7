using System.Runtime.InteropServices;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>Blocking waits on a 32-bit word in shared memory across processes (Linux futex); elsewhere a short sleep.</summary>
static unsafe class SharedWait
{
    const int FutexWait = 0, FutexWake = 1;
    static readonly long FutexSyscall = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => -1,
    };
    static readonly bool Available = OperatingSystem.IsLinux() && FutexSyscall > 0;

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    static extern long Syscall(long number, int* address, int operation, int value, TimeSpec* timeout, nint address2, int value3);

    /// <summary>Sleeps while <c>*word == expected</c>, at most <paramref name="milliseconds"/> (spurious returns are fine).</summary>
    public static void Wait(int* word, int expected, int milliseconds)
    {
        if (!Available)
        {
            Thread.Sleep(1);
            return;
        }
        var timeout = new TimeSpec { Seconds = milliseconds / 1000, Nanoseconds = milliseconds % 1000 * 1_000_000L };
        Syscall(FutexSyscall, word, FutexWait, expected, &timeout, 0, 0);
    }

    /// <summary>Wakes every process waiting on <paramref name="word"/>.</summary>
    public static void WakeAll(int* word)
    {
        if (Available) Syscall(FutexSyscall, word, FutexWake, int.MaxValue, null, 0, 0);
    }
}
