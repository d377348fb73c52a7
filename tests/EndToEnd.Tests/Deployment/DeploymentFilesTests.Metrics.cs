using System.Text.Json;
using System.Text.RegularExpressions;
using SpectralDiffusion.Orchestrator.Dashboard;
using SpectralDiffusion.Orchestrator.Hosting;
using YamlDotNet.RepresentationModel;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>The Prometheus scrape configuration, the Grafana cluster dashboard and the k8s scrape annotations agree with what the orchestrator serves.</summary>
public partial class DeploymentFilesTests
{
    [Fact]
    public void GrafanaClusterDashboard_QueriesOnlyMetricsTheOrchestratorExports()
    {
        var exported = ExportedMetric().Matches(string.Concat(Directory.GetFiles(Path.Combine(Root, "src/Orchestrator/Monitoring"), "*.cs")
            .Select(File.ReadAllText))).Select(m => m.Groups[1].Value).ToHashSet();
        var uid = ((YamlScalarNode)((YamlMappingNode)((YamlSequenceNode)At(Documents("deploy/grafana/provisioning/datasources/prometheus.yaml").Single(), "datasources")!)
            .Children.Single())[new YamlScalarNode("uid")]).Value;
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "deploy/grafana/dashboards/cluster.json")));

        var expressions = Descendants(dashboard.RootElement).Where(p => p.Name == "expr").Select(p => p.Value.GetString()!).ToList();
        var uids = Descendants(dashboard.RootElement).Where(p => p.Name == "datasource").Select(p => p.Value.GetProperty("uid").GetString()).ToHashSet();

        Assert.NotEmpty(expressions);
        Assert.Equal([uid], uids);
        foreach (var name in expressions.SelectMany(e => QueriedMetric().Matches(e)).Select(m => m.Groups[1].Value))
            Assert.Contains(HistogramSuffix().Replace(name, ""), exported);
    }

    [Fact]
    public void PrometheusScrape_TargetsTheDashboardPortWithTheReadKeyComposeGivesTheOrchestrator()
    {
        var compose = Documents("docker-compose.yml").Single();
        var scrape = (YamlMappingNode)((YamlSequenceNode)At(Documents("deploy/prometheus/prometheus.yml").Single(), "scrape_configs")!).Children.Single();
        var target = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)At(scrape, "static_configs")!).Children.Single())[new YamlScalarNode("targets")]).Children.Single().ToString();
        var orchestrator = (YamlMappingNode)At(compose, "services", "orchestrator", "environment")!;
        var keys = orchestrator.Children.Where(e => e.Key.ToString().EndsWith("__Key", StringComparison.Ordinal))
            .ToDictionary(e => e.Value.ToString(), e => Scalar(orchestrator, e.Key.ToString()[..^"Key".Length] + "Role"));
        var prometheus = At(compose, "services", "prometheus")!;
        var entrypoint = string.Join(' ', ((YamlSequenceNode)At(prometheus, "entrypoint")!).Children.Select(c => c.ToString()));
        var annotations = (YamlMappingNode)At(KubernetesDocuments().Single(d => Kind(d) == "Deployment/orchestrator"), "spec", "template", "metadata", "annotations")!;

        var dashboardPort = new ServerOptions { Port = int.Parse(Scalar(orchestrator, "Orchestrator__Port")!) }.EffectiveDashboardPort;
        Assert.Equal($"orchestrator:{dashboardPort}", target);
        Assert.Equal(MetricsEndpoint.Path, Scalar(scrape, "metrics_path"));
        Assert.Equal("Bearer", Scalar(scrape, "authorization", "type"));
        Assert.Contains(">" + Scalar(scrape, "authorization", "credentials_file"), entrypoint.Replace(" ", ""));
        Assert.Equal("read", keys[Scalar(prometheus, "environment", "SD_METRICS_KEY")!]);
        Assert.Equal(dashboardPort.ToString(), Scalar(annotations, "prometheus.io/port"));
        Assert.Equal(MetricsEndpoint.Path, Scalar(annotations, "prometheus.io/path"));
        Assert.Equal("grafana", ((YamlSequenceNode)At(prometheus, "profiles")!).Children.Single().ToString());
    }

    [GeneratedRegex("\"(sd_[a-z_]+)\"")]
    private static partial Regex ExportedMetric();

    [GeneratedRegex(@"\b(sd_[a-z_]+)")]
    private static partial Regex QueriedMetric();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();
}
