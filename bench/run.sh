#!/usr/bin/env bash
# run.sh: every auth0me benchmark side by side with go-auth0 v1 and v3, then
# RESULTS.md. Run from anywhere: `bench/run.sh` (make bench calls it).
# Loopback and memory only. Knobs (environment): COUNT (samples per
# benchmark, default 6), BENCHTIME (default 200ms), SCENARIO_RUNS (runs of
# each rate-limit scenario per library, default 21: the median of 5 put
# auth0me's S5 K=4 at 1.24x where 80 runs put it at 1.14x), FIRSTCALL_N,
# MANY_COUNT, GO, BENCHSTAT.
set -euo pipefail
cd "$(dirname "$0")"
GO=${GO:-go}
BENCHSTAT=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-200ms}
FIRSTCALL_N=${FIRSTCALL_N:-2000}
MANY_COUNT=${MANY_COUNT:-3}
SCENARIO_RUNS=${SCENARIO_RUNS:-21}
start=$(date +%s)
mkdir -p out
: > out/commands.txt

# run logs a command in out/commands.txt and runs it, its stdout to $1.
run() {
	local dest=$1
	shift
	echo "$* > $dest" >> out/commands.txt
	echo "== $*" >&2
	set +e
	"$@" | tee "$dest" | grep --line-buffered -E '^(Benchmark|FAIL|--- )' >&2
	local status=${PIPESTATUS[0]}
	set -e
	if [ "$status" -ne 0 ] || grep -qE '^(FAIL|--- FAIL)' "$dest"; then
		echo "run.sh: failed (exit $status): $*" >&2
		exit 1
	fi
}

# bstat logs and runs benchstat.
bstat() {
	local dest=$1
	shift
	echo "$GO run $BENCHSTAT $* > $dest" >> out/commands.txt
	$GO run "$BENCHSTAT" "$@" > "$dest"
}

echo "cd bench && $GO test -c -o out/bench.test ." >> out/commands.txt
$GO test -c -o out/bench.test .
T=./out/bench.test

run out/op.txt $T -test.run '^$' -test.bench '^Benchmark(Op|Guard)$' -test.benchmem \
	-test.count "$COUNT" -test.benchtime "$BENCHTIME"
run out/firstcall.txt $T -test.run '^$' -test.bench '^BenchmarkFirstCall$' -test.benchmem \
	-test.count "$COUNT" -test.benchtime "${FIRSTCALL_N}x"
run out/many.txt $T -test.run '^$' -test.bench '^BenchmarkManyUsers$' \
	-test.count "$MANY_COUNT" -test.benchtime 1x
# Issue 11's rate-limit scenarios, every library, each run in a synctest
# bubble (minutes of bucket time in seconds of real time).
echo "AUTH0ME_BENCH_SCENARIOS=out/scenarios.jsonl AUTH0ME_BENCH_SCENARIO_RUNS=$SCENARIO_RUNS $T -test.run ^TestScenarios\$ -test.v > out/scenarios.txt" >> out/commands.txt
echo "== TestScenarios" >&2
AUTH0ME_BENCH_SCENARIOS=out/scenarios.jsonl AUTH0ME_BENCH_SCENARIO_RUNS=$SCENARIO_RUNS \
	$T -test.run '^TestScenarios$' -test.v -test.timeout 20m > out/scenarios.txt || { tail -50 out/scenarios.txt >&2; exit 1; }
run out/profile.txt $T -test.run '^$' -test.bench '^BenchmarkOp$/^net=memory$//^lib=auth0me$' -test.benchmem \
	-test.benchtime 1s -test.cpuprofile out/cpu.prof -test.memprofile out/mem.prof

echo "$GO tool pprof -top -cum -nodecount=35 $T out/cpu.prof > out/cpu-top.txt" >> out/commands.txt
$GO tool pprof -top -cum -nodecount=35 "$T" out/cpu.prof > out/cpu-top.txt 2>/dev/null
echo "$GO tool pprof -top -sample_index=alloc_objects -nodecount=35 $T out/mem.prof > out/mem-top.txt" >> out/commands.txt
$GO tool pprof -top -sample_index=alloc_objects -nodecount=35 "$T" out/mem.prof > out/mem-top.txt 2>/dev/null

bstat out/benchstat-op.txt -filter '.name:Op' -col /lib out/op.txt
bstat out/benchstat-guard.txt -filter '.name:Guard' -col /rt out/op.txt
bstat out/benchstat-firstcall.txt -col /lib out/firstcall.txt
bstat out/benchstat-many.txt -col /lib out/many.txt

elapsed=$(( $(date +%s) - start ))
$GO run ./cmd/benchreport -dir out -elapsed "$elapsed" -o RESULTS.md
echo "run.sh: wrote bench/RESULTS.md in ${elapsed}s" >&2
