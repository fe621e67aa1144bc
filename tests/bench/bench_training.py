#!/usr/bin/env python3
"""Training benchmark (issue: datasets and the training engine). Not in CI.

Trains the three example models end to end (read CSV, preprocess, train,
evaluate) with mlctl and with the equivalent plain PyTorch script
(pytorch_reference.py, Debian's python3-torch: the same libtorch), side by
side in one run, 3 repetitions each, and reports median wall time, samples/s
and test accuracy. The Python script runs with glibc's malloc told to keep
large blocks (MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_), its stronger
setting. The spam data must have been prepared (examples/spam/prepare.sh).

usage: bench_training.py [REPEATS] [churn|digits|spam ...]   (default: 3, all)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MLCTL = os.environ.get("MLCTL", os.path.join(ROOT, "build", "bin", "mlctl"))
PYTHON = os.environ.get("PYTORCH_PYTHON", "/usr/bin/python3")
MODELS = {
    "churn": ("examples/churn/train.yml", "examples/churn/data/breast_cancer.csv"),
    "digits": ("examples/digits/train.yml", "examples/digits/data/digits.csv"),
    "spam": ("examples/spam/train.yml", "examples/spam/data/spam.csv"),
}


def run_mlctl(project, job):
    began = time.perf_counter()
    # Early stopping off: both sides train every epoch of the job.
    out = subprocess.run([MLCTL, "--project", project, "experiment", "submit", "-f", os.path.join(ROOT, job),
                          "--set", "early_stopping=", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
    wall = time.perf_counter() - began
    metrics = json.loads(out.stdout)["metrics"]
    return {"wall_seconds": wall, "test_accuracy": metrics["test_accuracy"],
            "samples_per_second": metrics["samples_per_second"]}


def run_python(model, data):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="4294967296", MALLOC_TRIM_THRESHOLD_="4294967296")
    out = subprocess.run([PYTHON, os.path.join(HERE, "pytorch_reference.py"), model, os.path.join(ROOT, data)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    only = set(sys.argv[2:]) or set(MODELS)
    project = tempfile.mkdtemp(prefix="mlctl-bench-train-")
    subprocess.run([MLCTL, "init", project, "-o", "json"], stdout=subprocess.DEVNULL, check=True)
    print(f"{'model':<8} {'tool':<8} {'wall s':>8} {'samples/s':>11} {'test acc':>9}")
    results = {}
    for model, (job, data) in MODELS.items():
        if model not in only:
            continue
        if not os.path.exists(os.path.join(ROOT, data)):
            print(f"{model}: {data} is missing (run examples/{model}/prepare.sh); skipped", file=sys.stderr)
            continue
        for tool, runner in (("mlctl", lambda: run_mlctl(project, job)), ("pytorch", lambda: run_python(model, data))):
            samples = [runner() for _ in range(repeats)]
            row = {key: statistics.median(s[key] for s in samples)
                   for key in ("wall_seconds", "samples_per_second", "test_accuracy")}
            results.setdefault(model, {})[tool] = row
            print(f"{model:<8} {tool:<8} {row['wall_seconds']:>8.2f} {row['samples_per_second']:>11,.0f} "
                  f"{row['test_accuracy']:>9.4f}")
        pair = results[model]
        print(f"{model:<8} ratio    {pair['mlctl']['wall_seconds'] / pair['pytorch']['wall_seconds']:>8.2f} "
              f"{pair['mlctl']['samples_per_second'] / pair['pytorch']['samples_per_second']:>11.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
