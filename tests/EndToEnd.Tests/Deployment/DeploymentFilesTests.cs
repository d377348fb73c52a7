using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Orchestrator.Hosting;
using SpectralDiffusion.Worker.Cli;
using YamlDotNet.RepresentationModel;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>
/// Every deployment file parses, and the files, ports, verbs, secrets, views, health services and grace periods they
/// name agree with the code. (deploy/local/compose-test.sh starts the compose stack for real; deploy/k8s/check.sh
/// renders and validates the Kubernetes manifests.)
/// </summary>
public partial class DeploymentFilesTests
{
    static readonly string Root = RepositoryRoot.Path;

    static List<YamlMappingNode> Documents(string relativePath)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Root, relativePath));
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    static YamlNode? At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out var child)) return null;
            node = child;
        }
        return node;
    }

    static string? Scalar(YamlNode node, params string[] path) => (At(node, path) as YamlScalarNode)?.Value;

    static ISet<string> Verbs(RootCommand root) => root.Subcommands.Select(c => c.Name).ToHashSet();

    [Fact]
    public void DockerCompose_ServicesFilesPortsAndVerbs_Exist()
    {
        var compose = Documents("docker-compose.yml").Single();
        var services = (YamlMappingNode)At(compose, "services")!;
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet();
        Assert.Superset(new HashSet<string> { "postgres", "orchestrator", "worker-1", "worker-2", "grafana", "worker-gpu", "ops" }, names);
        Assert.Equal("gpu", ((YamlSequenceNode)At(services, "worker-gpu", "profiles")!).Children.Single().ToString());

        foreach (var (name, service) in services.Children)
        {
            if (Scalar(service, "build", "dockerfile") is { } dockerfile)
                Assert.True(File.Exists(Path.Combine(Root, dockerfile)), $"{name}: {dockerfile} does not exist");
            foreach (var volume in (At(service, "volumes") as YamlSequenceNode)?.Children ?? [])
            {
                var source = volume.ToString().Split(':')[0];
                if (source.StartsWith("./", StringComparison.Ordinal))
                    Assert.True(Directory.Exists(Path.Combine(Root, source)) || File.Exists(Path.Combine(Root, source)), $"{name}: {source} does not exist");
            }
        }
        var port = Scalar(services, "orchestrator", "environment", "Orchestrator__Port");
        Assert.Equal("5080", port);
        Assert.Contains(((YamlSequenceNode)At(services, "orchestrator", "ports")!).Children, p => p.ToString().EndsWith(":5080", StringComparison.Ordinal));
        Assert.Equal("http://orchestrator:5080", Scalar(services, "worker-gpu", "environment", "SD_ORCHESTRATOR"));
        var health = ((YamlSequenceNode)At(services, "orchestrator", "healthcheck", "test")!).Children.Select(c => c.ToString()).ToList();
        Assert.Contains(health[health.IndexOf("/app/orchestrator") + 1], Verbs(OrchestratorCli.Build()));
    }

    [Theory]
    [InlineData("orchestrator")]
    [InlineData("worker-1")]
    [InlineData("worker-2")]
    [InlineData("worker-gpu")]
    public void DockerCompose_StopGracePeriod_OutlastsTheProcessOwnShutdown(string service)
    {
        var definition = At(Documents("docker-compose.yml").Single(), "services", service)!;

        // Its own key, else the one merged in from an extension (`<<: *worker`); compose's default is 10 s.
        var grace = Duration(Scalar(definition, "stop_grace_period") ?? (At(definition, "<<") is { } merged ? Scalar(merged, "stop_grace_period") : null) ?? "10s");

        Assert.True(grace > OwnShutdown(service), $"{service}: stop_grace_period {grace} does not outlast its own shutdown ({OwnShutdown(service)})");
    }

    [Fact]
    public void KubernetesManifests_TerminationGracePeriods_OutlastTheProcessesOwnShutdown()
    {
        var documents = KubernetesDocuments();

        var orchestrator = Scalar(documents.Single(d => Kind(d) == "Deployment/orchestrator"), "spec", "template", "spec", "terminationGracePeriodSeconds");
        var worker = Scalar(documents.Single(d => Kind(d) == "StatefulSet/worker-gpu"), "spec", "template", "spec", "terminationGracePeriodSeconds");

        Assert.True(TimeSpan.FromSeconds(int.Parse(orchestrator!)) > OwnShutdown("orchestrator"));
        Assert.True(TimeSpan.FromSeconds(int.Parse(worker!)) > OwnShutdown("worker-gpu"));
    }

    /// <summary>How long the process takes to stop after SIGTERM: the orchestrator's host shutdown, the agent's last step (2 minutes, src/Worker/Program.cs).</summary>
    static TimeSpan OwnShutdown(string service) => service == "orchestrator" ? OrchestratorSetup.ShutdownTimeout : TimeSpan.FromMinutes(2);

    /// <summary>A compose duration such as 30s, 2m10s or 130s.</summary>
    static TimeSpan Duration(string text) =>
        DurationPart().Matches(text).Aggregate(TimeSpan.Zero, (sum, part) => sum + (part.Groups[2].Value switch
        {
            "h" => TimeSpan.FromHours(int.Parse(part.Groups[1].Value)),
            "m" => TimeSpan.FromMinutes(int.Parse(part.Groups[1].Value)),
            _ => TimeSpan.FromSeconds(int.Parse(part.Groups[1].Value)),
        }));

    [Theory]
    [InlineData("deploy/docker/orchestrator.Dockerfile", "src/Orchestrator/Orchestrator.csproj", "orchestrator", "serve")]
    [InlineData("deploy/docker/worker-cpu.Dockerfile", "src/Worker/Worker.csproj", "worker", "agent")]
    [InlineData("deploy/docker/worker-cuda.Dockerfile", "src/Worker/Worker.csproj", "worker", "agent")]
    public void Dockerfile_PublishedProjectEntryPointAndVerb_Exist(string dockerfile, string project, string assembly, string verb)
    {
        var text = File.ReadAllText(Path.Combine(Root, dockerfile));

        Assert.Contains($"dotnet publish {project}", text);
        Assert.Contains("-r linux-x64 --self-contained", text);
        Assert.True(File.Exists(Path.Combine(Root, project)), project);
        Assert.Contains($"ENTRYPOINT [\"/app/{assembly}\"]", text);
        Assert.Contains($"CMD [\"{verb}\"]", text);
        var assemblyName = Regex.Match(File.ReadAllText(Path.Combine(Root, project)), "<AssemblyName>(.*)</AssemblyName>").Groups[1].Value;
        Assert.Equal(assembly, assemblyName);
        var verbs = assembly == "worker" ? Verbs(WorkerCli.Build()) : Verbs(OrchestratorCli.Build());
        Assert.Contains(verb, verbs);
        if (dockerfile.Contains("cuda")) Assert.Contains("-p:TorchBackend=cuda", text);
    }

    [Theory]
    [InlineData("deploy/docker/orchestrator.Dockerfile")]
    [InlineData("deploy/docker/worker-cpu.Dockerfile")]
    [InlineData("deploy/docker/worker-cuda.Dockerfile")]
    public void Dockerfile_RuntimeStage_RunsAsNonRootWithAHealthCheck(string dockerfile)
    {
        var text = File.ReadAllText(Path.Combine(Root, dockerfile));

        var runtimeStage = text[FromLine().Matches(text)[^1].Index..];

        Assert.Matches(@"(?m)^FROM \$\{BASE_IMAGE\}", runtimeStage);
        Assert.Matches(@"(?m)^USER 10001$", runtimeStage);
        Assert.Matches(@"(?m)^HEALTHCHECK ", runtimeStage);
        Assert.DoesNotMatch(@"(?m)^COPY \. ", text);   // sources after the restore, never the whole context first
    }

    [Fact]
    public void WorkerRuntimeConfig_NeedsOnlyTheDotNetRuntime()
    {
        var required = RequiredFrameworks("worker");

        Assert.Equal(["Microsoft.NETCore.App"], required.Keys);
    }

    /// <summary>The shared frameworks an executable's runtimeconfig.json (as the build wrote it, beside this test assembly) names, with their versions.</summary>
    static Dictionary<string, string> RequiredFrameworks(string assembly)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, assembly + ".runtimeconfig.json")));
        var options = config.RootElement.GetProperty("runtimeOptions");
        var frameworks = options.TryGetProperty("frameworks", out var several) ? several.EnumerateArray().ToList() : [options.GetProperty("framework")];
        return frameworks.ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("version").GetString()!);
    }

    [Fact]
    public void KubernetesManifests_ParseAndReferenceExistingPortsVerbsAndSecrets()
    {
        var documents = KubernetesDocuments();
        var kinds = documents.Select(Kind).ToHashSet();
        Assert.Superset(new HashSet<string> { "Deployment/orchestrator", "Service/orchestrator", "StatefulSet/postgres", "Service/postgres", "StatefulSet/worker-gpu", "Secret/spectral-secrets" }, kinds);

        var secretKeys = ((YamlMappingNode)At(documents.Single(d => Kind(d) == "Secret/spectral-secrets"), "stringData")!).Children.Keys.Select(k => k.ToString()).ToHashSet();
        var referenced = documents.SelectMany(d => Descendants(d)).OfType<YamlMappingNode>()
            .Select(m => At(m, "secretKeyRef")).OfType<YamlMappingNode>().Select(r => Scalar(r, "key")!).ToList();
        Assert.NotEmpty(referenced);
        Assert.All(referenced, key => Assert.Contains(key, secretKeys));

        var orchestrator = documents.Single(d => Kind(d) == "Deployment/orchestrator");
        var container = (YamlMappingNode)((YamlSequenceNode)At(orchestrator, "spec", "template", "spec", "containers")!).Children.Single();
        var containerPorts = ((YamlSequenceNode)At(container, "ports")!).Children.Cast<YamlMappingNode>().ToDictionary(p => Scalar(p, "name")!, p => Scalar(p, "containerPort"));
        Assert.Equal(("5080", "5081"), (containerPorts["grpc"], containerPorts["dashboard"]));   // the dashboard: the gRPC port + 1
        Assert.Equal("5080", Scalar(container, "readinessProbe", "grpc", "port"));
        Assert.Null(Scalar(container, "readinessProbe", "grpc", "service"));   // the default service: readiness, with PostgreSQL
        Assert.Equal(("5080", OrchestratorSetup.LivenessService), (Scalar(container, "livenessProbe", "grpc", "port"), Scalar(container, "livenessProbe", "grpc", "service")));
        var servicePorts = ((YamlSequenceNode)At(documents.Single(d => Kind(d) == "Service/orchestrator"), "spec", "ports")!).Children.Cast<YamlMappingNode>()
            .ToDictionary(p => Scalar(p, "name")!, p => Scalar(p, "targetPort"));
        Assert.Equal(("5080", "5081"), (servicePorts["grpc"], servicePorts["dashboard"]));
        Assert.Contains(((YamlSequenceNode)At(container, "args")!).Children.Single().ToString(), Verbs(OrchestratorCli.Build()));

        var worker = documents.Single(d => Kind(d) == "StatefulSet/worker-gpu");
        var workerContainer = (YamlMappingNode)((YamlSequenceNode)At(worker, "spec", "template", "spec", "containers")!).Children.Single();
        Assert.Contains(((YamlSequenceNode)At(workerContainer, "args")!).Children.Single().ToString(), Verbs(WorkerCli.Build()));
        Assert.Equal("1", Scalar(workerContainer, "resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("http://orchestrator.spectral.svc:5080", ((YamlSequenceNode)At(workerContainer, "env")!).Children.Cast<YamlMappingNode>()
            .Single(e => Scalar(e, "name") == "SD_ORCHESTRATOR").Children[new YamlScalarNode("value")].ToString());
    }

    [Fact]
    public void KubernetesWorker_OneGpuPerPod_SeesItAsDeviceZeroUnderThePodName()
    {
        var worker = KubernetesDocuments().Single(d => Kind(d) == "StatefulSet/worker-gpu");

        var container = (YamlMappingNode)((YamlSequenceNode)At(worker, "spec", "template", "spec", "containers")!).Children.Single();
        var env = ((YamlSequenceNode)At(container, "env")!).Children.Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name")!);

        // The device plugin hands each container the GPUs of its limit only, numbered from 0 inside the container.
        Assert.Equal("1", Scalar(container, "resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("cuda:0", Scalar(env["SD_WORKER_DEVICE"], "value"));
        // Pod names are unique, node names are not (several agents per node).
        Assert.Equal("metadata.name", Scalar(env["SD_WORKER_NAME"], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Contains("NCCL_SOCKET_IFNAME", env.Keys);
        Assert.Contains("NCCL_DEBUG", env.Keys);
    }

    static List<YamlMappingNode> KubernetesDocuments() =>
        Directory.GetFiles(Path.Combine(Root, "deploy/k8s/base"), "*.yaml").Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal))
            .SelectMany(f => Documents(Path.GetRelativePath(Root, f))).ToList();

    static string Kind(YamlMappingNode document) => $"{Scalar(document, "kind")}/{Scalar(document, "metadata", "name")}";

    [Fact]
    public void GrafanaDashboard_QueriesOnlyViewsTheMigrationsCreate()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "deploy/grafana/provisioning"), "*.yaml", SearchOption.AllDirectories))
            Assert.NotEmpty(Documents(Path.GetRelativePath(Root, file)));
        var views = ViewName().Matches(string.Concat(Directory.GetFiles(Path.Combine(Root, "src/Orchestrator/Persistence/Migrations"), "*.sql").Select(File.ReadAllText)))
            .Select(m => m.Groups[1].Value).ToHashSet();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "deploy/grafana/dashboards/spectral.json")));

        var queries = Descendants(dashboard.RootElement).Where(p => p.Name == "rawSql").Select(p => p.Value.GetString()!).ToList();

        Assert.NotEmpty(queries);
        foreach (var query in queries)
            foreach (Match from in FromClause().Matches(query))
                Assert.Contains(from.Groups[1].Value, views);
    }

    [Fact]
    public void DashboardReaderMigration_GrantsEveryViewTheMigrationsCreate()
    {
        var migrations = Directory.GetFiles(Path.Combine(Root, "src/Orchestrator/Persistence/Migrations"), "*.sql");
        var views = ViewName().Matches(string.Concat(migrations.Select(File.ReadAllText))).Select(m => m.Groups[1].Value).ToHashSet();

        var grant = Regex.Match(File.ReadAllText(migrations.Single(f => f.EndsWith("_dashboard_reader.sql", StringComparison.Ordinal))),
            @"GRANT SELECT ON ([\w, ]+) TO spectral_reader");

        Assert.True(grant.Success);
        Assert.Equal(views.Order(), grant.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries).Order());
    }

    static IEnumerable<YamlNode> Descendants(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new[] { node }.Concat(mapping.Children.Values.SelectMany(Descendants)),
        YamlSequenceNode sequence => new[] { node }.Concat(sequence.Children.SelectMany(Descendants)),
        _ => [node],
    };

    static IEnumerable<JsonProperty> Descendants(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => new[] { p }.Concat(Descendants(p.Value))),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Descendants),
        _ => [],
    };

    [GeneratedRegex(@"^FROM\s", RegexOptions.Multiline)]
    private static partial Regex FromLine();

    [GeneratedRegex(@"(\d+)([hms])")]
    private static partial Regex DurationPart();

    [GeneratedRegex(@"CREATE (?:OR REPLACE )?VIEW (\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex ViewName();

    [GeneratedRegex(@"\bFROM\s+(\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex FromClause();
}
