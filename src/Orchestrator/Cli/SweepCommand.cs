extern alias contracts;
using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Shared.Sweeps;
using Clients = contracts::SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>
/// <c>orchestrator sweep submit FILE | list | show ID | cancel ID | report ID [--compare A B] [--plots DIR]</c>: a grid of
/// jobs (arms × seeds) submitted as one, and its statistics across seeds.
/// </summary>
public static class SweepCommand
{
    public static Command Create()
    {
        var sweep = new Command("sweep", "Sweeps: a grid of arms × seeds submitted as one, with a statistics report.");
        foreach (var verb in new[] { Submit(), List(), Show(), Cancel(), Report() }) sweep.Subcommands.Add(verb);
        return sweep;
    }

    static Command Submit()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "YAML sweep spec (see examples/sweeps/)" };
        var maxJobs = new Option<int>("--max-jobs") { Description = "Refuse locally above this many jobs (the server has its own cap)", DefaultValueFactory = _ => 256 };
        var overrides = new Option<string[]>("--set") { Description = "override a key of the base spec for every arm, e.g. --set schedule.steps=20 (repeatable)" };
        var seeds = new Option<long[]>("--seeds") { Description = "replace the spec's seeds, e.g. --seeds 1 2", AllowMultipleArgumentsPerToken = true };
        return CliContext.Verb("submit", "Submit a sweep from a YAML spec.", async (parse, cli, cancellation) =>
        {
            var path = parse.GetValue(file)!.FullName;
            var spec = SweepSpecYaml.Load(path);
            if (parse.GetValue(overrides) is { Length: > 0 } sets && spec.Base is not null) spec.Base = JobSpecOverrides.ApplyTo(spec.Base, sets, "--set");
            if (parse.GetValue(seeds) is { Length: > 0 } replaced)
            {
                spec.Seeds.Clear();
                spec.Seeds.AddRange(replaced);
            }
            try { SweepExpansion.Expand(spec, parse.GetValue(maxJobs), new JobSpecValidator(JobSpecValidator.DefaultMaxWorldSize)); }
            catch (SweepSpecException e)
            {
                return CliContext.Fail($"{path} is not a valid sweep:\n" + string.Join("\n", e.Violations.Select(v => $"  {v.Field}: {v.Description}")), 2);
            }
            var submitted = await cli.Sweeps.SubmitAsync(new SubmitSweepRequest { Spec = spec }, cancellationToken: cancellation);
            if (cli.Json) cli.PrintJson(submitted);
            else AnsiConsole.MarkupLineInterpolated(
                $"submitted sweep [bold]{submitted.Id}[/] ({submitted.Jobs.Select(j => j.Arm).Distinct().Count()} arms × {spec.Seeds.Count} seeds = {submitted.Jobs.Count} jobs); see it with `orchestrator sweep show {submitted.Id}`");
            return 0;
        }, file, maxJobs, overrides, seeds);
    }

    static Command List()
    {
        var limit = new Option<int>("--limit") { Description = "At most this many sweeps", DefaultValueFactory = _ => 50 };
        return CliContext.Verb("list", "List sweeps, newest first.", async (parse, cli, cancellation) =>
        {
            var response = await cli.Sweeps.ListAsync(new ListSweepsRequest { Limit = Math.Clamp(parse.GetValue(limit), 1, 500) }, cancellationToken: cancellation);
            if (cli.Json) cli.PrintJson(response);
            else
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "name", "state", "jobs", "succeeded", "created");
                foreach (var s in response.Sweeps)
                    table.AddRow(Markup.Escape(s.Id), Markup.Escape(s.Spec.Name), State(s.State), s.Jobs.Count.ToString(),
                        s.Jobs.Count(j => j.State == JobState.Succeeded).ToString(), JobFormatting.Time(s.CreatedAt));
                AnsiConsole.Write(table);
            }
            return 0;
        }, limit);
    }

    static Command Show()
    {
        var id = new Argument<string>("ID") { Description = "Sweep id" };
        return CliContext.Verb("show", "Show a sweep and its jobs.", async (parse, cli, cancellation) =>
        {
            var sweep = await cli.Sweeps.GetAsync(new GetSweepRequest { Id = parse.GetValue(id)! }, cancellationToken: cancellation);
            if (cli.Json)
            {
                cli.PrintJson(sweep);
                return 0;
            }
            AnsiConsole.MarkupLineInterpolated($"sweep [bold]{sweep.Spec.Name}[/] {sweep.Id}: {sweep.State.ToString().ToLowerInvariant()} {sweep.CancelReason}");
            var table = new Table().Border(TableBorder.Rounded).AddColumns("arm", "seed", "job", "state", "after");
            foreach (var job in sweep.Jobs)
                table.AddRow(Markup.Escape(job.Arm), job.Seed.ToString(), Markup.Escape(job.JobId), JobFormatting.Colored(job.State),
                    Markup.Escape(string.Join(", ", job.DependsOnArms)));
            AnsiConsole.Write(table);
            return 0;
        }, id);
    }

    static Command Cancel()
    {
        var id = new Argument<string>("ID") { Description = "Sweep id" };
        var reason = new Option<string>("--reason") { Description = "Recorded with the sweep and its jobs", DefaultValueFactory = _ => "cancelled from the CLI" };
        return CliContext.Verb("cancel", "Cancel a sweep: every job of it that has not ended.", async (parse, cli, cancellation) =>
        {
            var sweep = await cli.Sweeps.CancelAsync(new CancelSweepRequest { Id = parse.GetValue(id)!, Reason = parse.GetValue(reason)! },
                cancellationToken: cancellation);
            if (cli.Json) cli.PrintJson(sweep);
            else AnsiConsole.MarkupLineInterpolated($"{sweep.Id} is {sweep.State.ToString().ToLowerInvariant()}; jobs cancelled: {sweep.Jobs.Count(j => j.State == JobState.Cancelled)}");
            return 0;
        }, id, reason);
    }

    static Command Report()
    {
        var id = new Argument<string>("ID") { Description = "Sweep id" };
        var compare = new Option<string[]>("--compare")
        {
            Description = "Paired comparison of two arms (B − A per seed): --compare A B; repeatable. Default: every pair",
            AllowMultipleArgumentsPerToken = true,
        };
        var plots = new Option<DirectoryInfo?>("--plots") { Description = "Write loss-curves.png and gates.png (overlaid arms) into this folder" };
        return CliContext.Verb("report", "Statistics across seeds: per-arm mean ± std, paired comparisons, gate evidence.", async (parse, cli, cancellation) =>
        {
            var request = new GetSweepReportRequest { Id = parse.GetValue(id)! };
            var names = parse.GetValue(compare) ?? [];
            if (names.Length % 2 != 0) return CliContext.Fail("--compare takes two arm names (A B)", 2);
            for (var i = 0; i < names.Length; i += 2) request.Compare.Add(new ArmPair { ArmA = names[i], ArmB = names[i + 1] });
            var report = await cli.Sweeps.ReportAsync(request, cancellationToken: cancellation);
            if (parse.GetValue(plots) is { } folder)
                foreach (var written in SweepReportPlots.Write(report, folder.FullName)) Console.Error.WriteLine($"wrote {written}");
            if (cli.Json) cli.PrintJson(report);
            else SweepReportFormatting.Write(report);
            return 0;
        }, id, compare, plots);
    }

    static string State(SweepState state) => state.ToString().ToLowerInvariant();
}
