"""Fills the results section of experiment.md from a sweep report (orchestrator sweep report --json).

Usage: render.py REPORT.json EXPERIMENT.md WALL_SECONDS CPU OVERRIDES
The text between the markers below is replaced (the file is created with just that section if it lacks them).
"""
import datetime
import json
import math
import sys

BEGIN, END = "<!-- results:begin (bench/experiment.sh writes this section) -->", "<!-- results:end -->"
METRICS = ["low_frequency_error", "high_frequency_error", "high_frequency_power_ratio", "fid", "final_loss", "final_loss_ddpm"]
PAIRS = [("lite", "sd"), ("lite", "lite-distill"), ("lite-distill", "sd"), ("sd", "sd-neutral")]
# Two-sided 95% Student t quantiles by degrees of freedom (pairs - 1).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}

report_path, md_path, wall, cpu, overrides = sys.argv[1:6]
report = json.load(open(report_path))


def num(v, spec=".4f"):
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) or v == "NaN" else format(float(v), spec)


def mean_std(s, spec=".4f"):
    if not s or not s.get("n"):
        return ""
    return f"{num(s.get('mean'), spec)} ± {num(s.get('std'), spec)} (n={s['n']})"


arms = report.get("arms", [])
lines = [BEGIN, "",
         f"Run of {datetime.date.today()} on {cpu}; wall time {int(wall) // 60} min {int(wall) % 60} s; sweep {report.get('sweepId')} "
         f"({report.get('state', '').replace('SWEEP_STATE_', '').lower()}). Overrides: `{overrides.strip() or 'none'}`. "
         "The machine may have been shared; times are indicative.", "",
         "| arm | done | params | MACs | train s | " + " | ".join(METRICS) + " |",
         "|---|---|---|---|---|" + "---|" * len(METRICS)]
for a in arms:
    by = {m["metric"]: m for m in a.get("metrics", [])}
    lines.append(f"| {a['arm']} | {a.get('succeeded', 0)}/{a.get('jobs', 0)} | {num(a.get('params', 0) / 1e6, '.3f')}M | "
                 f"{num(a.get('macs', 0) / 1e9, '.4f')}G | {mean_std(a.get('trainingSeconds'), '.0f')} | "
                 + " | ".join(mean_std(by.get(m)) for m in METRICS) + " |")
teacher = next((a for a in arms if a["arm"] == "teacher"), None)
if teacher:
    ratio = next((m for m in teacher.get("metrics", []) if m["metric"] == "high_frequency_power_ratio"), None)
    if ratio:
        ok = 1 / 1.3 <= float(ratio["mean"]) <= 1.3
        lines += ["", f"Teacher HF power ratio (generated/real): {mean_std(ratio, '.2f')}; the design asks for it within 1.3 of the real "
                      f"data: {'met' if ok else 'NOT met (the teacher is under-trained at this budget; read the students with that in mind)'}."]

lines += ["", "Paired by seed (B − A; negative errors favour B). 95% interval: mean ± t(n−1) · standard error.", "",
          "| A | B | metric | mean difference | std error | 95% interval | seeds agreeing |", "|---|---|---|---|---|---|---|"]
for c in report.get("comparisons", []):
    if (c["armA"], c["armB"]) not in PAIRS or c["metric"] not in METRICS:
        continue
    n, d, se = c.get("pairs", 0), c.get("meanDifference"), c.get("standardError")
    interval = "n/a"
    low, high = c.get("ci95Low"), c.get("ci95High")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):  # the report's own interval
        interval = f"[{float(low):.4f}, {float(high):.4f}]"
    elif n >= 2 and isinstance(se, (int, float)) and math.isfinite(float(se)):  # reports from before it had one
        t = T95.get(n - 1, 1.96)
        interval = f"[{float(d) - t * float(se):.4f}, {float(d) + t * float(se):.4f}]"
    lines.append(f"| {c['armA']} | {c['armB']} | {c['metric']} | {num(d)} | {num(se)} | {interval} | {c.get('agreeing', 0)}/{n} |")

gated = [a for a in arms if a.get("gates")]
if gated:
    lines += ["", "Gate evidence (mean gate per band over the denoising steps; |gate − init|: mean distance from the same preset's "
                  "gates at initialisation on the same inputs):", "",
              "| arm | band | noisiest step | last step | range across steps | \\|gate − init\\| |", "|---|---|---|---|---|---|"]
    for a in gated:
        for g in a["gates"]:
            lines.append(f"| {a['arm']} | {g['band']} | {mean_std(g.get('firstStep'), '.3f')} | {mean_std(g.get('lastStep'), '.3f')} | "
                         f"{mean_std(g.get('rangeAcrossSteps'), '.3f')} | {mean_std(g.get('shiftFromInit'), '.3f')} |")
lines += ["", "Curves: `experiment/loss-curves.png`, `experiment/gates.png` (beside this file).", "", END]
section = "\n".join(lines)

try:
    text = open(md_path).read()
except FileNotFoundError:
    text = ""
if BEGIN in text and END in text:
    text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
else:
    text = (text + "\n\n" if text else "# CPU-scale experiment (bench/experiment.sh)\n\n") + section + "\n"
open(md_path, "w").write(text)
print(section)
