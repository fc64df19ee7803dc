#!/usr/bin/env bash
# One command for a GPU machine (chapter 16): install the GPU build, check the device, run every
# notebook in smoke on it, run the benchmarks, and time chapters 05, 10 and 15 in the `full` profile.
# Every figure goes to one report file. Budget on one GPU: under 8 minutes (each step has a limit).
# It runs on a CPU too: the full-profile timings are then skipped (hours there) and the report says so.
#
#   bash benchmarks/gpu_check.sh [REPORT]        default REPORT: build/gpu_check/report.txt
#
# Environment: GPU_CHECK_JOBS notebooks run at once (default 4 with a GPU, 1 without);
# GPU_CHECK_CHAPTERS the chapters to run in smoke (default: all); KERAS_HOME as for the course.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out="$repo/build/gpu_check"
report=${1:-$out/report.txt}
mkdir -p "$out" "$(dirname "$report")"
: >"$report"
start=$(date +%s)
say() { echo "$*" | tee -a "$report"; }
elapsed() { echo $(( $(date +%s) - $1 )); }

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then gpu=1; else gpu=0; fi
say "# gpu_check $(date -u +%Y-%m-%dT%H:%MZ) on $(hostname): $( [ $gpu = 1 ] && nvidia-smi -L | head -n 4 | tr '\n' ';' || echo 'no NVIDIA GPU')"

say "## install"
[ -d .venv ] || "${PYTHON:-python3}" -m venv .venv
source .venv/bin/activate
extras=$( [ $gpu = 1 ] && echo "dev,gpu" || echo "dev" )
t=$(date +%s)
if timeout 240 python -m pip install -q -e ".[$extras]" >"$out/install.log" 2>&1; then
  say "pip install -e .[$extras]: ok in $(elapsed $t) s"
else
  say "pip install -e .[$extras]: FAILED or offline after $(elapsed $t) s (see $out/install.log); using what is installed"
fi
if [ -d "$repo/../shared/keras-cache" ]; then dlpy data --link "$repo/../shared/keras-cache" | tail -n 1 | tee -a "$report"; fi
export MPLBACKEND=Agg

say "## dlpy doctor"
timeout 120 dlpy doctor 2>/dev/null | tee -a "$report"

say "## notebooks in smoke"
jobs=${GPU_CHECK_JOBS:-$( [ $gpu = 1 ] && echo 4 || echo 1 )}
if [ -n "${GPU_CHECK_CHAPTERS:-}" ]; then read -ra chapters <<<"$GPU_CHECK_CHAPTERS"
else mapfile -t chapters < <(ls notebooks | sed -n 's/^\([0-9][0-9]\)_.*\.ipynb$/\1/p'); fi
t=$(date +%s)
for ((shard = 0; shard < jobs; shard++)); do
  mine=()
  for ((i = shard; i < ${#chapters[@]}; i += jobs)); do mine+=("${chapters[$i]}"); done
  [ ${#mine[@]} -gt 0 ] || continue
  timeout 420 dlpy run "${mine[@]}" --profile smoke --no-html --build-dir "$out/smoke_$shard" \
    >"$out/smoke_$shard.log" 2>&1 &
done
wait
say "${#chapters[@]} notebooks, $jobs at a time: $(elapsed $t) s"
grep -hE "^  (ok|FAILED|failed|error)|^\[" "$out"/smoke_*.log | grep -E "ok in|FAIL|fail|error" | tee -a "$report"
failures=$(grep -lE "FAILED|Traceback" "$out"/smoke_*.log | wc -l)

say "## benchmarks (each up to 90 s)"
for bench in benchmarks/bench_*.py; do
  t=$(date +%s)
  if timeout 90 python "$bench" >"$out/$(basename "$bench" .py).log" 2>&1; then status=ok; else status="stopped ($?)"; fi
  say "### $(basename "$bench") — $status in $(elapsed $t) s"
  grep -vE "^(WARNING|I0000|W0000|E0000)" "$out/$(basename "$bench" .py).log" | tail -n 6 | tee -a "$report"
done

say "## full profile: chapters 05, 10, 15 (each up to 150 s)"
if [ $gpu = 1 ]; then
  for chapter in 05 10 15; do
    t=$(date +%s)
    if timeout 150 dlpy run "$chapter" --profile full --no-html --build-dir "$out/full" >"$out/full_$chapter.log" 2>&1
    then say "chapter $chapter in full: $(elapsed $t) s"; else say "chapter $chapter in full: stopped after $(elapsed $t) s (limit 150 s)"; fi
  done
  DLPY_BUILD_DIR="$out/full" dlpy results --profile full 2>/dev/null | tee -a "$report"
else
  say "skipped: no GPU here, and the full profile is the book's settings (hours on a CPU)"
fi

say "## total: $(elapsed $start) s; notebooks failed in $failures shard(s)"
[ "$failures" -eq 0 ]
