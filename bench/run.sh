#!/usr/bin/env bash
# Runs Vigía's benchmarks and prints their figures with the ratio to each one's baseline.
#   bench/run.sh                 SQLite
#   VIGIA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p vigia-cli --bench http_load
cargo bench -p vigia-domain --bench deadline_sweep
cargo bench -p vigia-cli --bench access_scale
