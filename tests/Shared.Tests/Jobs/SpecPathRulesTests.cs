using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class SpecPathRulesTests
{
    readonly SpecPathRules server = SpecPathRules.Server(["/data", "/mnt/weights/"]);

    [Theory]
    [InlineData("ffhq/train")]
    [InlineData("weights/teacher.safetensors")]
    [InlineData("./ffhq")]
    [InlineData("/data")]
    [InlineData("/data/ffhq/train")]
    [InlineData("/mnt/weights/teacher.safetensors")]
    [InlineData("/data//ffhq/./train")]
    public void Check_PathInsideADataRoot_Accepted(string path)
    {
        Assert.Null(server.Check(path));
    }

    [Theory]
    [InlineData("/etc/passwd", "Orchestrator:DataRoots")]
    [InlineData("/datastore/x", "Orchestrator:DataRoots")]
    [InlineData("/data/../etc/passwd", "'..'")]
    [InlineData("../../etc/passwd", "'..'")]
    [InlineData("ffhq/../../secrets", "'..'")]
    [InlineData("..", "'..'")]
    [InlineData("~/weights.safetensors", "'~'")]
    [InlineData("s3://bucket/weights", "not a path")]
    [InlineData("jobs:0193f2a4-8c1e-7b7e-9d0a-0f3c5e2a1b4d", "not a path")]
    public void Check_PathOutsideTheRules_RejectedWithReason(string path, string reason)
    {
        Assert.Contains(reason, server.Check(path));
    }

    [Fact]
    public void Check_NoDataRootConfigured_RejectsEveryAbsolutePath()
    {
        var rules = SpecPathRules.Server([]);

        Assert.Contains("none is configured", rules.Check("/data/ffhq"));
        Assert.Null(rules.Check("ffhq"));
    }

    [Fact]
    public void Check_ClientSide_LeavesAbsolutePathsToTheServerButRejectsTraversal()
    {
        Assert.Null(SpecPathRules.ClientSide.Check("/etc/passwd"));
        Assert.NotNull(SpecPathRules.ClientSide.Check("../x"));
    }

    [Fact]
    public void Check_Local_AcceptsAnyPath()
    {
        Assert.Null(SpecPathRules.Local.Check("../runs/teacher/model-ema.safetensors"));
        Assert.Null(SpecPathRules.Local.Check("/etc/passwd"));
    }

    [Fact]
    public void Resolve_RelativePath_LandsUnderTheDataRoot()
    {
        Assert.Equal("/srv/data/ffhq/train", SpecPathRules.Resolve("ffhq/train", "/srv/data/"));
        Assert.Equal("/data/ffhq", SpecPathRules.Resolve("/data/ffhq", "/srv/data"));
    }

    [Fact]
    public void Resolve_RelativePathClimbingOut_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => SpecPathRules.Resolve("ffhq/../../etc/passwd", "/srv/data"));

        Assert.Contains("/srv/data", error.Message);
    }
}
