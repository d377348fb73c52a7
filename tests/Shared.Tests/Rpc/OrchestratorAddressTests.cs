using SpectralDiffusion.Shared.Rpc;

namespace SpectralDiffusion.Shared.Tests.Rpc;

public class OrchestratorAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:5080", "http://127.0.0.1:5080/")]
    [InlineData("localhost:5080", "http://localhost:5080/")]
    [InlineData("orchestrator:5080", "http://orchestrator:5080/")]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080/")]
    [InlineData("https://orchestrator.example:443/", "https://orchestrator.example/")]
    [InlineData(" [::1]:5080 ", "http://[::1]:5080/")]
    public void Parse_HostPortOrUrl_GivesTheSameHttpUrl(string text, string expected)
    {
        var uri = OrchestratorAddress.Parse(text, "--address");

        Assert.Equal(expected, uri.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ftp://127.0.0.1:5080")]
    [InlineData("http://127.0.0.1:5080/jobs")]
    [InlineData("http://user:secret@127.0.0.1:5080")]
    [InlineData("127.0.0.1:notaport")]
    public void Parse_NotAnAddress_NamesTheSettingAndBothForms(string text)
    {
        var error = Assert.Throws<OrchestratorAddressException>(() => OrchestratorAddress.Parse(text, "--address / SD_ORCHESTRATOR"));

        Assert.Contains("--address / SD_ORCHESTRATOR", error.Message);
        Assert.Contains("host:port", error.Message);
    }

    [Fact]
    public void ParseList_ActiveAndStandby_GivesBothInTheOrderGiven()
    {
        var addresses = OrchestratorAddress.ParseList("10.0.0.2:5080, http://10.0.0.1:5080", "--address");

        Assert.Equal(["http://10.0.0.2:5080/", "http://10.0.0.1:5080/"], addresses.Select(a => a.ToString()));
    }

    [Theory]
    [InlineData("127.0.0.1:5080,127.0.0.1:5080")]
    [InlineData("127.0.0.1:5080,")]
    public void ParseList_RepeatedOrEmptyEntry_NamesTheSetting(string text)
    {
        var error = Assert.Throws<OrchestratorAddressException>(() => OrchestratorAddress.ParseList(text, "--address / SD_ORCHESTRATOR"));

        Assert.Contains("--address / SD_ORCHESTRATOR", error.Message);
    }
}
