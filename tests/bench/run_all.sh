#!/bin/sh
# Runs every benchmark of tests/bench/ against the built mlctl ($MLCTL).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/bench_tracking.py"
python3 "$here/bench_training.py"
python3 "$here/bench_backend_load.py"
python3 "$here/bench_sweep.py"
python3 "$here/bench_pipeline.py"
python3 "$here/bench_serving.py"
/usr/bin/python3 "$here/bench_csv.py"
