#!/bin/sh
# Runs libFuzzer targets, each for a given time, from a copy of its seed
# corpus, and says which passed.
#
# Usage: run-fuzz.sh --time=SECONDS --corpus=DIR --bin=DIR --work=DIR
#                    [--results=FILE] TARGET...
#
# For each TARGET: copies DIR/TARGET/ of --corpus (the committed seeds,
# never changed) to WORK/TARGET/corpus, runs BIN/TARGET on it for SECONDS,
# and prints "PASS: TARGET" or "FAIL: TARGET" with the run's final
# statistics; a failing run leaves its crashing input (crash-*, leak-*,
# timeout-*, oom-*) and its log in WORK/TARGET/.  --results=FILE also
# gets one "PASS TARGET" or "FAIL TARGET" line per target, for the quick
# start's count.  Exits non-zero if any target failed.
#
# Extra libFuzzer options can come in FUZZ_FLAGS (e.g. FUZZ_FLAGS=-jobs=2).
set -u
time=60 corpus= bin= work= results=
for arg; do
    case $arg in
    --time=*) time=${arg#*=} ;;
    --corpus=*) corpus=${arg#*=} ;;
    --bin=*) bin=${arg#*=} ;;
    --work=*) work=${arg#*=} ;;
    --results=*) results=${arg#*=} ;;
    --*) echo "run-fuzz.sh: unknown option $arg" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
if [ -z "$corpus" ] || [ -z "$bin" ] || [ -z "$work" ] || [ $# -eq 0 ]; then
    echo "usage: run-fuzz.sh --time=S --corpus=DIR --bin=DIR --work=DIR [--results=FILE] TARGET..." >&2
    exit 2
fi
[ -z "$results" ] || : > "$results"

# Sanitizer reports end the run with a stack trace in the log; leaks are
# reported too (libFuzzer checks for them when an input's mallocs and
# frees do not match).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for target; do
    dir=$work/$target
    rm -rf "$dir"
    mkdir -p "$dir/corpus"
    if [ -d "$corpus/$target" ]; then
        cp "$corpus/$target"/* "$dir/corpus/" 2>/dev/null
    fi
    # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: every
    # target bounds its state, so 1 GB means a leak or a runaway.
    "$bin/$target" -max_total_time="$time" -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$dir/" ${FUZZ_FLAGS:-} \
        "$dir/corpus" > "$dir/log" 2>&1
    status=$?
    stats=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1 execs/p' "$dir/log")
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1)
    if [ $status -eq 0 ]; then
        echo "PASS: $target ($time s, ${stats:-? execs}, $cov)"
        [ -z "$results" ] || echo "PASS $target" >> "$results"
    else
        failed=1
        echo "FAIL: $target (exit $status; log $dir/log)"
        ls "$dir" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' |
            sed "s|^|    input: $dir/|"
        grep -E 'ERROR: |runtime error|assertion|SUMMARY' "$dir/log" |
            head -5 | sed 's/^/    /'
        [ -z "$results" ] || echo "FAIL $target" >> "$results"
    fi
done
exit $failed
