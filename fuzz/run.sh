#!/usr/bin/env bash
# Build and run every fuzz target, then fold what they found back into corpus/fuzz/.
#
#   fuzz/run.sh [SECONDS] [--smoke] [--jobs N] [--targets "a b"] [--stable]
#
# SECONDS   time per target (default 60)
# --smoke   CI smoke: stable, --sanitizer none, the committed corpus read-only, nothing merged;
#           exits 1 on any crash (.ci/run calls `fuzz/run.sh 30 --smoke`)
# --jobs N  targets run at once (default 2)
# --targets only these targets (default: all, from `cargo fuzz list`)
# --stable  stable with --sanitizer none even where a nightly toolchain exists
#
# Otherwise: ASan on nightly (`cargo +nightly fuzz run -s address`) where nightly exists, else
# stable with `--sanitizer none`. Each target starts from corpus/fuzz/<target>/ plus seeds derived
# at run time from corpus/vectors, corpus/specs, corpus/import and, when present, the AWS managed
# policies of ../shared/corpus (GPL data: read here, never committed). New coverage is merged
# into corpus/fuzz/<target>/, which is then minimised (`cargo fuzz cmin`). Crashes are left in
# fuzz/artifacts/<target>/; keep each in corpus/regressions/<target>/ with its root cause in
# corpus/regressions/README.md. Logs: fuzz/logs/<target>.log; summary: fuzz/logs/summary.md.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$PWD
ROOT=$(cd .. && pwd)

SECONDS_PER=60
SMOKE=0
JOBS=2
TARGETS=""
FORCE_STABLE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --jobs) JOBS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --stable) FORCE_STABLE=1 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *[!0-9]*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    *) SECONDS_PER=$1 ;;
  esac
  shift
done

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "run.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 2
fi

if [ "$SMOKE" = 0 ] && [ "$FORCE_STABLE" = 0 ] && cargo +nightly --version >/dev/null 2>&1; then
  FUZZ=(cargo +nightly fuzz)
  SAN=(--sanitizer address)
  MODE="nightly, ASan"
else
  FUZZ=(cargo fuzz)
  SAN=(--sanitizer none)
  MODE="stable, no sanitizer"
fi
[ -n "$TARGETS" ] || TARGETS=$(cargo fuzz list)

echo "== building ($MODE)"
"${FUZZ[@]}" build "${SAN[@]}" >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xverify-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SEEDS=$WORK/seeds
SHARED=$ROOT/../shared/corpus/aws-managed-policies
SHARED_ARGS=()
if [ "$SMOKE" = 0 ] && [ -d "$SHARED" ]; then SHARED_ARGS=(--shared "$SHARED"); fi
cargo run --quiet --release --example seeds -- "$SEEDS" "${SHARED_ARGS[@]}"

mkdir -p logs artifacts
run_one() {
  local t=$1
  local corpus=$ROOT/corpus/fuzz/$t
  mkdir -p "$corpus" "$WORK/new/$t" "$SEEDS/$t" "artifacts/$t"
  # The first directory receives what the run finds; the committed corpus and the seeds are read.
  "${FUZZ[@]}" run "${SAN[@]}" "$t" "$WORK/new/$t" "$corpus" "$SEEDS/$t" -- \
    -max_total_time="$SECONDS_PER" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096 \
    -artifact_prefix="$FUZZ_DIR/artifacts/$t/" >"logs/$t.log" 2>&1 || true
}

i=0
for t in $TARGETS; do
  echo "== $t: ${SECONDS_PER}s"
  run_one "$t" &
  i=$((i + 1))
  if [ $((i % JOBS)) = 0 ]; then wait; fi
done
wait

status=0
{
  echo "| target | execs | exec/s | cov | ft | corpus | crashes |"
  echo "|---|---|---|---|---|---|---|"
} >logs/summary.md
for t in $TARGETS; do
  log=logs/$t.log
  done_line=$(grep -E '#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$done_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+) .*/\1/p' <<<"$done_line")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log" | tail -1)
  crashed=0
  if grep -qE '^==[0-9]+== ERROR|panicked at' "$log"; then crashed=1; fi
  if [ "$SMOKE" = 0 ] && [ "$crashed" = 0 ]; then
    corpus=$ROOT/corpus/fuzz/$t
    # Units grown from the managed policies are fragments; keep none big enough to be a copy.
    if [ "${#SHARED_ARGS[@]}" -gt 0 ] && [ "$t" = parse_policy ]; then
      find "$WORK/new/$t" -type f -size +512c -delete
    fi
    "${FUZZ[@]}" run "${SAN[@]}" "$t" "$corpus" "$WORK/new/$t" -- -merge=1 >>"$log" 2>&1 || true
    "${FUZZ[@]}" cmin "${SAN[@]}" "$t" "$corpus" >>"$log" 2>&1 || true
  fi
  n=$(find "$ROOT/corpus/fuzz/$t" -type f | wc -l)
  echo "| $t | ${execs:-?} | ${eps:-?} | ${cov:-?} | ${ft:-?} | $n | $crashed |" >>logs/summary.md
  if [ "$crashed" != 0 ]; then
    status=1
    echo "!! $t crashed: see fuzz/$log and fuzz/artifacts/$t/" >&2
    grep -E -A3 'panicked' "$log" | head -8 >&2 || true
  fi
done
cat logs/summary.md
exit $status
