using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class EchoTests
{
    [Fact]
    public void Short_HundredKilobyteValue_KeepsAPrefixAndTheLength()
    {
        var echoed = Echo.Short(new string('x', 100_000));

        Assert.StartsWith(new string('x', Echo.MaxLength), echoed);
        Assert.EndsWith("(100000 characters)", echoed);
        Assert.True(echoed.Length < Echo.MaxLength + 30);
    }

    [Fact]
    public void Short_ControlCharacters_WrittenAsEscapes()
    {
        Assert.Equal("a\\u0000b\\u000a", Echo.Short("a\0b\n"));
    }

    [Fact]
    public void Short_CutInsideASurrogatePair_DoesNotSplitIt()
    {
        var value = new string('a', Echo.MaxLength - 1) + "😀" + "tail";

        var echoed = Echo.Short(value);

        Assert.False(char.IsHighSurrogate(echoed[Echo.MaxLength - 2]) && !char.IsLowSurrogate(echoed[Echo.MaxLength - 1]));
        Assert.StartsWith(new string('a', Echo.MaxLength - 1) + "…", echoed);
    }
}
