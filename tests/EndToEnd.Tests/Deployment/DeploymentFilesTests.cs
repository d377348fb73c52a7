using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Worker.Cli;
using YamlDotNet.RepresentationModel;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>
/// The deployment files cannot run here (no Docker engine, no cluster), so these check what can be checked: every file
/// parses, and the files, ports, verbs, secrets and views they name exist.
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
        Assert.Superset(new HashSet<string> { "postgres", "orchestrator", "worker-1", "worker-2", "grafana", "worker-gpu" }, names);
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
        Assert.Contains("5080:5080", ((YamlSequenceNode)At(services, "orchestrator", "ports")!).Children.Select(p => p.ToString()));
        Assert.Equal("http://orchestrator:5080", Scalar(services, "worker-gpu", "environment", "SD_ORCHESTRATOR"));
        var health = ((YamlSequenceNode)At(services, "orchestrator", "healthcheck", "test")!).Children.Select(c => c.ToString()).ToList();
        Assert.Contains(health[health.IndexOf("orchestrator.dll") + 1], Verbs(OrchestratorCli.Build()));
    }

    [Theory]
    [InlineData("deploy/docker/orchestrator.Dockerfile", "src/Orchestrator/Orchestrator.csproj", "orchestrator.dll", "serve")]
    [InlineData("deploy/docker/worker-cpu.Dockerfile", "src/Worker/Worker.csproj", "worker.dll", "agent")]
    [InlineData("deploy/docker/worker-cuda.Dockerfile", "src/Worker/Worker.csproj", "worker.dll", "agent")]
    public void Dockerfile_PublishedProjectEntryPointAndVerb_Exist(string dockerfile, string project, string assembly, string verb)
    {
        var text = File.ReadAllText(Path.Combine(Root, dockerfile));

        Assert.Contains($"dotnet publish {project}", text);
        Assert.True(File.Exists(Path.Combine(Root, project)), project);
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{assembly}\"]", text);
        Assert.Contains($"CMD [\"{verb}\"]", text);
        var assemblyName = Regex.Match(File.ReadAllText(Path.Combine(Root, project)), "<AssemblyName>(.*)</AssemblyName>").Groups[1].Value;
        Assert.Equal(assembly, assemblyName + ".dll");
        var verbs = assembly == "worker.dll" ? Verbs(WorkerCli.Build()) : Verbs(OrchestratorCli.Build());
        Assert.Contains(verb, verbs);
        if (dockerfile.Contains("cuda")) Assert.Contains("-p:TorchBackend=cuda", text);
    }

    [Theory]
    [InlineData("deploy/docker/orchestrator.Dockerfile", "orchestrator")]
    [InlineData("deploy/docker/worker-cpu.Dockerfile", "worker")]
    [InlineData("deploy/docker/worker-cuda.Dockerfile", "worker")]
    public void Dockerfile_RuntimeImage_HasEveryFrameworkTheRuntimeConfigNames(string dockerfile, string assembly)
    {
        var provided = ProvidedFrameworks(dockerfile);

        var required = RequiredFrameworks(assembly);

        Assert.NotEmpty(provided);
        foreach (var (name, version) in required)
        {
            Assert.True(provided.TryGetValue(name, out var available),
                $"{assembly}.runtimeconfig.json needs {name} {version}, which the runtime stage of {dockerfile} does not have ({string.Join(", ", provided.Keys)})");
            Assert.StartsWith(available + ".", version);
        }
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

    /// <summary>
    /// The shared frameworks (name to major.minor) that the last stage of a Dockerfile has: from Microsoft's .NET base
    /// images (runtime: .NET; aspnet and sdk: .NET and ASP.NET Core) and from the runtime packages it installs.
    /// </summary>
    static Dictionary<string, string> ProvidedFrameworks(string dockerfile)
    {
        var text = File.ReadAllText(Path.Combine(Root, dockerfile));
        var runtimeStage = text[FromLine().Matches(text)[^1].Index..];
        var provided = new Dictionary<string, string>();
        foreach (Match source in FrameworkSource().Matches(runtimeStage))
        {
            var (kind, version) = (source.Groups["kind"].Value, source.Groups["version"].Value);
            if (kind != "runtime-deps") provided["Microsoft.NETCore.App"] = version;
            if (kind is "aspnet" or "sdk" or "aspnetcore-runtime") provided["Microsoft.AspNetCore.App"] = version;
        }
        return provided;
    }

    [Fact]
    public void KubernetesManifests_ParseAndReferenceExistingPortsVerbsAndSecrets()
    {
        var documents = Directory.GetFiles(Path.Combine(Root, "deploy/k8s"), "*.yaml").SelectMany(f => Documents(Path.GetRelativePath(Root, f))).ToList();
        string Kind(YamlMappingNode d) => $"{Scalar(d, "kind")}/{Scalar(d, "metadata", "name")}";
        var kinds = documents.Select(Kind).ToHashSet();
        Assert.Superset(new HashSet<string> { "Deployment/orchestrator", "Service/orchestrator", "StatefulSet/postgres", "Service/postgres", "DaemonSet/worker-gpu", "Secret/spectral-secrets" }, kinds);

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
        var servicePorts = ((YamlSequenceNode)At(documents.Single(d => Kind(d) == "Service/orchestrator"), "spec", "ports")!).Children.Cast<YamlMappingNode>()
            .ToDictionary(p => Scalar(p, "name")!, p => Scalar(p, "targetPort"));
        Assert.Equal(("5080", "5081"), (servicePorts["grpc"], servicePorts["dashboard"]));
        Assert.Contains(((YamlSequenceNode)At(container, "args")!).Children.Single().ToString(), Verbs(OrchestratorCli.Build()));

        var worker = documents.Single(d => Kind(d) == "DaemonSet/worker-gpu");
        var workerContainer = (YamlMappingNode)((YamlSequenceNode)At(worker, "spec", "template", "spec", "containers")!).Children.Single();
        Assert.Contains(((YamlSequenceNode)At(workerContainer, "args")!).Children.Single().ToString(), Verbs(WorkerCli.Build()));
        Assert.Equal("1", Scalar(workerContainer, "resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("http://orchestrator.spectral.svc:5080", ((YamlSequenceNode)At(workerContainer, "env")!).Children.Cast<YamlMappingNode>()
            .Single(e => Scalar(e, "name") == "SD_ORCHESTRATOR").Children[new YamlScalarNode("value")].ToString());
    }

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

    /// <summary><c>FROM mcr.microsoft.com/dotnet/KIND:X.Y</c>, or a package <c>dotnet-runtime-X.Y</c> / <c>aspnetcore-runtime-X.Y</c>.</summary>
    [GeneratedRegex(@"mcr\.microsoft\.com/dotnet/(?<kind>runtime-deps|runtime|aspnet|sdk):(?<version>\d+\.\d+)|\b(?<kind>dotnet-runtime|aspnetcore-runtime)-(?<version>\d+\.\d+)\b")]
    private static partial Regex FrameworkSource();

    [GeneratedRegex(@"CREATE (?:OR REPLACE )?VIEW (\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex ViewName();

    [GeneratedRegex(@"\bFROM\s+(\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex FromClause();
}
