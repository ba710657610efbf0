#!/usr/bin/env bash
# Fuzz smoke test for CI: builds the fuzz targets (fuzz/, its own workspace) and runs each one for
# a fixed time (FUZZ_SECONDS, default 20) from a copy of its committed seed corpus, so that the
# corpus in the repository stays as committed. A crash fails the script and leaves the input in
# fuzz/artifacts/<target>/.
#
# Stable Rust: cargo-fuzz passes `-Z` flags, which RUSTC_BOOTSTRAP=1 lets the pinned stable
# compiler accept; `-s none` skips the sanitizer (the code fuzzed is safe Rust: panics, aborts,
# hangs and huge allocations are what is looked for).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-20}
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none
for target in idx cifar csv npz checkpoint; do
  corpus=$(mktemp -d)
  cp -r "corpus/$target/." "$corpus/"
  echo "fuzzing $target for ${seconds} s"
  cargo fuzz run "$target" -s none "$corpus" -- -max_total_time="$seconds" -rss_limit_mb=2048
  rm -rf "$corpus"
done
