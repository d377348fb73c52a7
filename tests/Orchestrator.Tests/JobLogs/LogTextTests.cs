using System.Text;
using SpectralDiffusion.Orchestrator.RankLogs;

namespace SpectralDiffusion.Orchestrator.Tests.JobLogs;

public class LogTextTests
{
    [Fact]
    public void Storable_LongerThanTheLimit_CutWithAnEllipsisAndNoHalfSurrogate()
    {
        // 9 characters then an emoji (a surrogate pair) across the cut at 10.
        var text = Encoding.UTF8.GetBytes("123456789\U0001F600tail");

        var stored = LogText.Storable(text, 11);

        Assert.Equal("123456789…", stored);
        Assert.DoesNotContain(stored, char.IsSurrogate);
    }

    [Fact]
    public void Storable_NulAndInvalidBytes_ReplacedWithVisibleCharacters()
    {
        var stored = LogText.Storable([(byte)'a', 0, 0xC3, (byte)'b'], 100);

        Assert.Equal("a\u2400\uFFFDb", stored);
    }

    [Theory]
    [InlineData("err", "ERR")]
    [InlineData("WRN", "WRN")]
    [InlineData("<script>", "INF")]
    public void Level_AnyText_OneOfTheKnownNames(string shipped, string stored)
    {
        Assert.Equal(stored, LogText.Level(shipped));
    }
}
