#!/usr/bin/env bash
# One command for a GPU machine (chapter 16): install the GPU build, check the device, run every
# notebook in smoke on it, run the benchmarks, and time chapters 05, 10 and 15 in the `full` profile.
# Every figure goes to one report file. The whole run keeps to GPU_CHECK_BUDGET seconds (default 470,
# under 8 minutes): each step gets at most its own limit and what is left of the budget, and the
# report says which steps were cut short. It runs on a CPU too: the full-profile timings are then
# skipped (hours there) and the report says so.
#
#   bash benchmarks/gpu_check.sh [REPORT]        default REPORT: build/gpu_check/report.txt
#
# Environment: GPU_CHECK_JOBS notebooks at once (default 4 with a GPU, 1 without); GPU_CHECK_CHAPTERS
# the chapters to run in smoke (default: all); GPU_CHECK_BUDGET; KERAS_HOME as for the course.
set -uo pipefail
report=${1:-}
[ -n "$report" ] && report=$(realpath -m "$report")  # relative to where it was called from
cd "$(dirname "$0")/.."
repo=$(pwd)
out="$repo/build/gpu_check"
report=${report:-$out/report.txt}
rm -rf "$out"/smoke_* "$out"/full "$out"/*.log
mkdir -p "$out" "$(dirname "$report")"
: >"$report"
start=$(date +%s)
budget=${GPU_CHECK_BUDGET:-470}
say() { echo "$*" | tee -a "$report"; }
elapsed() { echo $(( $(date +%s) - $1 )); }
limit() {  # the smaller of $1 and what is left of the budget (at least 1 s)
  local left=$(( budget - $(elapsed "$start") ))
  (( left < 1 )) && left=1
  echo $(( $1 < left ? $1 : left ))
}

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then gpu=1; else gpu=0; fi
say "# gpu_check $(date -u +%Y-%m-%dT%H:%MZ) on $(hostname): $( [ $gpu = 1 ] && nvidia-smi -L | head -n 4 | tr '\n' ';' || echo 'no NVIDIA GPU'); budget ${budget} s"

say "## install"
[ -d .venv ] || "${PYTHON:-python3}" -m venv .venv
source .venv/bin/activate
extras=$( [ $gpu = 1 ] && echo "dev,gpu" || echo "dev" )
t=$(date +%s)
if timeout "$(limit 120)" python -m pip install -q -e ".[$extras]" >"$out/install.log" 2>&1; then
  say "pip install -e .[$extras]: ok in $(elapsed $t) s"
else
  say "pip install -e .[$extras]: FAILED, offline or cut short after $(elapsed $t) s ($out/install.log); using what is installed"
fi
if [ -d "$repo/../shared/keras-cache" ]; then dlpy data --link "$repo/../shared/keras-cache" | tail -n 1 | tee -a "$report"; fi
export MPLBACKEND=Agg

say "## dlpy doctor"
timeout "$(limit 60)" dlpy doctor 2>/dev/null | tee -a "$report"

say "## notebooks in smoke"
jobs=${GPU_CHECK_JOBS:-$( [ $gpu = 1 ] && echo 4 || echo 1 )}
if [ -n "${GPU_CHECK_CHAPTERS:-}" ]; then read -ra chapters <<<"$GPU_CHECK_CHAPTERS"
else mapfile -t chapters < <(ls notebooks | sed -n 's/^\([0-9][0-9]\)_.*\.ipynb$/\1/p'); fi
t=$(date +%s)
smoke_limit=$(limit 240)
pids=()
for ((shard = 0; shard < jobs; shard++)); do
  mine=()
  for ((i = shard; i < ${#chapters[@]}; i += jobs)); do mine+=("${chapters[$i]}"); done
  (( ${#mine[@]} )) || continue
  timeout "$smoke_limit" dlpy run "${mine[@]}" --profile smoke --no-html --build-dir "$out/smoke_$shard" \
    >"$out/smoke_$shard.log" 2>&1 &
  pids+=("$!")
done
failures=0
for pid in "${pids[@]}"; do wait "$pid" || failures=$((failures + 1)); done
say "${#chapters[@]} notebooks, $jobs at a time (limit $smoke_limit s): $(elapsed $t) s; shards failed or cut short: $failures"
awk '/^\[[0-9]+\/[0-9]+\]/ {name = $2} /ok in|FAILED|Stopped by|Error/ && name {print "  " name ": " $0; name = ""}' \
  "$out"/smoke_*.log | tee -a "$report"

say "## benchmarks (each up to 60 s)"
for bench in benchmarks/bench_*.py; do
  t=$(date +%s)
  log="$out/$(basename "$bench" .py).log"
  if timeout "$(limit 60)" python "$bench" >"$log" 2>&1; then status=ok; else status="stopped (exit $?)"; fi
  say "### $(basename "$bench") — $status in $(elapsed $t) s"
  grep -vE "^(WARNING|I0000|W0000|E0000)" "$log" | tail -n 6 | tee -a "$report"
done

say "## full profile: chapters 05, 10, 15 (each up to 120 s)"
if [ $gpu = 1 ]; then
  for chapter in 05 10 15; do
    t=$(date +%s)
    if timeout "$(limit 120)" dlpy run "$chapter" --profile full --no-html --build-dir "$out/full" >"$out/full_$chapter.log" 2>&1
    then say "chapter $chapter in full: $(elapsed $t) s"
    else say "chapter $chapter in full: cut short after $(elapsed $t) s"; fi
  done
  DLPY_BUILD_DIR="$out/full" dlpy results --profile full 2>/dev/null | tee -a "$report"
else
  say "skipped: no GPU here, and the full profile is the book's settings (hours on a CPU)"
fi

say "## total: $(elapsed $start) s of a ${budget} s budget; notebook shards failed or cut short: $failures"
[ "$failures" -eq 0 ]
