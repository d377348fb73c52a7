"""Reads the "Rank R/W step phases (ms/step): ..." lines that training ranks log, as collected by bench/distill-scaling.sh
and bench/cross-node-distill.sh (one file per configuration, each line prefixed with "run N: "), and prints a per-phase
table with one column per configuration and rank, and (--efficiency) the data-parallel efficiency per run.

Usage: step-phases.py --state DIR [--efficiency ONE,TWO] [--steady TAG,...] COLUMN...
  COLUMN is LABEL=TAG:RANK, read from DIR/phases-TAG (e.g. "1 worker=one:0" "2w rank 0=two:0").
  --efficiency ONE,TWO: per run, the steady-state step time (median of the last 10% of steps) of rank 0 of ONE over the
  slower rank of TWO; then min, median and max over runs.
  --steady TAG,...: per configuration, the median over runs of the slower rank's steady-state step time.
"""
import argparse
import re
import statistics

LINE = re.compile(r"run (\d+): .*Rank (\d+)/(\d+) step phases \(ms/step\): \W*(.*?); total ([0-9.]+) ms/step"
                  r".*?process CPU ([0-9.]+) cores(?:.*?last 10% ([0-9.]+) ms)?")


def jobs(state, tag):
    """{run: {rank: {"phases": {name: ms}, "total": ms, "cpu": cores, "last": ms}}} of one configuration."""
    found = {}
    try:
        lines = open(f"{state}/phases-{tag}").read().splitlines()
    except FileNotFoundError:
        return found
    for line in lines:
        m = LINE.search(line)
        if not m:
            continue
        phases = {name: float(value) for name, value in re.findall(r"([a-z][a-z-]*) ([0-9.]+)", m[4])}
        found.setdefault(int(m[1]), {})[int(m[2])] = {
            "phases": phases, "total": float(m[5]), "cpu": float(m[6]), "last": float(m[7]) if m[7] else float("nan")}
    return found


def efficiency(state, one_tag, two_tag):
    one, two = jobs(state, one_tag), jobs(state, two_tag)
    print(f"{'run':>3} {'1 worker ms/step':>17} {'2 workers ms/step (slower rank)':>32} {'efficiency':>11}")
    values = []
    for run in sorted(set(one) | set(two)):
        if run not in one or len(two.get(run, {})) < 2:
            print(f"{run:>3} (a job's step-phase lines are missing; see {state}/worker-*.log)")
            continue
        a, b = one[run][0]["last"], max(rank["last"] for rank in two[run].values())
        values.append(a / b)
        print(f"{run:>3} {a:>17.1f} {b:>32.1f} {a / b:>11.3f}")
    if values:
        print(f"efficiency (steady state: median of the last 10% of steps): min {min(values):.3f}, "
              f"median {statistics.median(values):.3f}, max {max(values):.3f} over {len(values)} runs")


def steady(state, tags):
    for tag in tags:
        slowest = [max(rank["last"] for rank in job.values()) for job in jobs(state, tag).values()]
        if slowest:
            print(f"{tag:>10}: steady-state step (median of the last 10% of steps, slower rank) "
                  f"{statistics.median(slowest):.1f} ms, median of {len(slowest)} run(s)")


def phase_table(state, columns):
    parsed = []
    for column in columns:
        label, source = column.rsplit("=", 1)
        tag, rank = source.rsplit(":", 1)
        parsed.append((label, [job[int(rank)] for job in jobs(state, tag).values() if int(rank) in job]))
    names = []
    for _, ranks in parsed:
        for rank in ranks:
            names += [name for name in rank["phases"] if name not in names]

    def median(ranks, name):
        values = [rank[name] if name in ("total", "cpu") else rank["phases"].get(name, 0.0) for rank in ranks]
        return statistics.median(values) if values else float("nan")

    width = max([12] + [len(label) + 1 for label, _ in parsed])
    print("per-phase split, ms/step (median over runs of each job's mean over all its steps, warm-up included):")
    print(f"{'phase':<12}" + "".join(f"{label:>{width}}" for label, _ in parsed))
    for name in names + ["total", "cpu"]:
        print(f"{'CPU cores' if name == 'cpu' else name:<12}" + "".join(f"{median(ranks, name):>{width}.2f}" for _, ranks in parsed))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", required=True)
    parser.add_argument("--efficiency")
    parser.add_argument("--steady")
    parser.add_argument("columns", nargs="+")
    args = parser.parse_args()
    if args.efficiency:
        efficiency(args.state, *args.efficiency.split(","))
        print()
    if args.steady:
        steady(args.state, args.steady.split(","))
        print()
    phase_table(args.state, args.columns)


if __name__ == "__main__":
    main()
