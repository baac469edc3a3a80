#!/bin/sh
# make scale: memory and times of the workspace at scale (figures in Docs/Reliability.md).
#   1. 10 000 weld images of 128x128, 95 % of them in the pool;
#   2. 1 000 weld images at the paper's welding camera resolution, 1600x1200.
# For each: generate, init, train one round (1 epoch; the pool is then predicted and cached),
# then the simulated expert answers three queries through the session (pool predictions
# read, queries picked, answers stored with refutations and near hit / near miss searches),
# and three more with the cache deleted (the pool predicted at session start). Every step runs under /usr/bin/time:
# wall time and peak resident memory.
set -eu
tool=.build/release/nearcaipi
out=${SCALE_DIR:-.run/scale}
mkdir -p "$out"
step() {
    label=$1; shift
    /usr/bin/time -f "$label: %e s, peak resident %M KB" -o "$out/time.txt" "$@" >"$out/step.out" 2>"$out/step.err" || {
        echo "scale: '$label' failed:"; tail -5 "$out/step.err"; exit 1; }
    cat "$out/time.txt"
}
run_case() {
    name=$1 count=$2 sample_options=$3
    data="$out/$name-data" workspace="$out/$name-workspace"
    rm -rf "$workspace"
    if [ ! -f "$data/manifest.csv" ]; then
        # shellcheck disable=SC2086
        step "$name: generate $count images" "$tool" sample --out "$data" --count "$count" $sample_options --force
    fi
    echo "$name: $(du -sh "$data" | cut -f1) of images"
    step "$name: init" "$tool" init "$workspace" --data "$data" --split 0.02,0.01,0.02,0.95
    step "$name: train one round (1 epoch), then predict and cache the pool" "$tool" train "$workspace" --epochs 1
    grep -E "pool predictions cached" "$out/step.err" | sed "s/^/$name:   /"
    step "$name: expert answers 3 queries" "$tool" expert "$workspace" --answers 3
    grep -E "session open|picked in|stored in" "$out/step.err" | sed "s/^/$name:   /"
    rm -f "$workspace"/models/*.pool
    step "$name: expert answers 3 more, pool cache deleted" "$tool" expert "$workspace" --answers 3
    grep -E "session open|picked in|stored in" "$out/step.err" | sed "s/^/$name:   /"
}
run_case pool-10000x128 10000 "--size 128"
run_case camera-1000x1600x1200 1000 "--size 256 --camera 1600x1200"
