#!/bin/sh
# Submits the example pipeline (examples/pipeline: tiny teacher -> SD student -> evaluation) to the orchestrator and
# follows each job until it ends; exit 0 when all three succeeded. It runs inside the stack, from the orchestrator
# image, which carries the examples:
#   docker compose run --rm ops submit-pipeline
# Environment: SD_ORCHESTRATOR, SD_API_KEY (the compose file sets both), SD_PIPELINE_STEPS (training steps of teacher
# and student; empty or 0: the examples' own 300), SD_PIPELINE_BATCH (their batch size per rank; empty or 0: 16),
# SD_PIPELINE_SAMPLES (evaluation samples; empty or 0: the example's 128).
set -eu
examples="${SD_EXAMPLES:-/opt/spectral/examples/pipeline}"
orchestrator="${SD_ORCHESTRATOR_CLI:-/app/orchestrator}"

steps=""
if [ "${SD_PIPELINE_STEPS:-0}" != 0 ]; then
  steps="--set schedule.steps=$SD_PIPELINE_STEPS --set schedule.checkpoint_every=$(( (SD_PIPELINE_STEPS + 2) / 3 )) --set schedule.log_every=5"
  steps="$steps --set optimizer.warmup_steps=$(( SD_PIPELINE_STEPS / 5 ))"
fi
if [ "${SD_PIPELINE_BATCH:-0}" != 0 ]; then steps="$steps --set schedule.batch_size=$SD_PIPELINE_BATCH"; fi
samples=""
if [ "${SD_PIPELINE_SAMPLES:-0}" != 0 ]; then
  samples="--set evaluation.num_samples=$SD_PIPELINE_SAMPLES --set evaluation.num_real=$SD_PIPELINE_SAMPLES"
  samples="$samples --set evaluation.ddim_steps=10 --set schedule.batch_size=$SD_PIPELINE_SAMPLES"
fi

# submit SPEC [--set k=v ...]: prints the new job's id.
submit() {
  "$orchestrator" submit --json "$@" | sed -n 's/^{ *"id": *"\([^"]*\)".*/\1/p' | head -n 1
}

# The student and the evaluation name their inputs (job:ID); the scheduler holds each until its input succeeded.
# shellcheck disable=SC2086 # the overrides are words on purpose
teacher="$(submit "$examples/teacher.yaml" $steps)"
# shellcheck disable=SC2086
student="$(submit "$examples/student.yaml" --set "teacher.checkpoint=job:$teacher" $steps)"
# shellcheck disable=SC2086
evaluation="$(submit "$examples/evaluate.yaml" --set "model.checkpoint=job:$student" $samples)"
[ -n "$teacher" ] && [ -n "$student" ] && [ -n "$evaluation" ] || { echo "a submission failed" >&2; exit 1; }
echo "submitted: teacher $teacher, student $student, evaluation $evaluation"
for job in "$teacher" "$student" "$evaluation"; do
  "$orchestrator" watch "$job" | tail -n 3
done
"$orchestrator" runs
