#!/usr/bin/env python3
"""CSV reading benchmark (issue: datasets and the training engine). Not in CI.

Writes a numeric CSV (default 1,000,000 rows x 12 columns, ~100 MB; a fixed
seed), then reads it side by side in one run with mlctl's CSV code
(build/bin/mlctl_csv_bench: parse, numbers, schema, profile) and with
pandas.read_csv (C engine; Debian's python3-pandas), and times
`mlctl data register` on it (read, hash, parse, infer, profile, store).
Median of REPEATS.

usage: bench_csv.py [ROWS] [REPEATS]
"""
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, "build", "bin")
MLCTL = os.environ.get("MLCTL", os.path.join(BIN, "mlctl"))
PYTHON = os.environ.get("PANDAS_PYTHON", "/usr/bin/python3")

PANDAS_SCRIPT = """
import sys, time, statistics, json
import pandas
times = []
for _ in range(int(sys.argv[2])):
    began = time.perf_counter()
    frame = pandas.read_csv(sys.argv[1])
    times.append(time.perf_counter() - began)
print(json.dumps({"seconds": statistics.median(times), "rows": len(frame), "pandas": pandas.__version__}))
"""


def write_csv(path, rows):
    rng = random.Random(7)
    with open(path, "w") as f:
        f.write(",".join(f"x{i}" for i in range(11)) + ",label\n")
        for _ in range(rows):
            values = [f"{rng.gauss(0, 1) * 100:.6f}" for _ in range(11)]
            f.write(",".join(values) + f",{rng.randrange(2)}\n")


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = tempfile.mkdtemp(prefix="mlctl-bench-csv-")
    path = os.path.join(work, "numbers.csv")
    write_csv(path, rows)
    size_mb = os.path.getsize(path) / 1e6

    mlctl = json.loads(subprocess.run([os.path.join(BIN, "mlctl_csv_bench"), path, str(repeats)],
                                      check=True, stdout=subprocess.PIPE, text=True).stdout)
    pandas = json.loads(subprocess.run([PYTHON, "-c", PANDAS_SCRIPT, path, str(repeats)],
                                       check=True, stdout=subprocess.PIPE, text=True).stdout)
    project = os.path.join(work, "project")
    subprocess.run([MLCTL, "init", project, "-o", "json"], check=True, stdout=subprocess.DEVNULL)
    register = []
    for i in range(repeats):
        began = time.perf_counter()
        subprocess.run([MLCTL, "--project", project, "data", "register", "--name", f"numbers{i}", "--path", path,
                        "-o", "json"], check=True, stdout=subprocess.DEVNULL)
        register.append(time.perf_counter() - began)
    register_seconds = statistics.median(register)

    parse_numbers = mlctl["parse_seconds"] + mlctl["numbers_seconds"]
    print(f"file: {size_mb:.1f} MB, {mlctl['rows']:,} rows x {mlctl['columns']} columns")
    print(f"{'step':<34} {'seconds':>8} {'MB/s':>8}")
    for label, seconds in (("mlctl read file", mlctl["read_seconds"]),
                           ("mlctl parse_csv", mlctl["parse_seconds"]),
                           ("mlctl parse + numbers", parse_numbers),
                           ("mlctl infer schema", mlctl["schema_seconds"]),
                           ("mlctl profile", mlctl["profile_seconds"]),
                           (f"pandas {pandas['pandas']} read_csv", pandas["seconds"]),
                           ("mlctl data register (process)", register_seconds)):
        print(f"{label:<34} {seconds:>8.3f} {size_mb / seconds:>8.0f}")
    print(f"ratio parse + numbers / pandas read_csv: {parse_numbers / pandas['seconds']:.2f}")
    print(json.dumps({"size_mb": size_mb, "mlctl": mlctl, "pandas": pandas, "register_seconds": register_seconds}))


if __name__ == "__main__":
    main()
