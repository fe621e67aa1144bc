#!/usr/bin/env python3
"""Tracking benchmark for mlctl (issue: foundation). Not part of CI.

Measures, in one run on this machine:
  - start-up: `mlctl --help`, `mlctl run list` / `run show` on a small project;
  - run creation rate (5 params, 3 metrics each) and, with 10,000 runs in one
    project, `run list -o json --top 10000` and a filtered `run list`;
  - 100,000 metric points in one run through $MLCTL_METRICS_FILE, and through
    repeated `mlctl run log` calls (one point per call, and batches);
  - 4 concurrent writers: points/s in total and the longest single call.
Prints a table and writes JSON to --json if given.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

MLCTL = os.environ.get("MLCTL", "mlctl")


def run(args, env=None, check=True):
    result = subprocess.run([MLCTL] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        sys.exit(f"mlctl {' '.join(args)} failed: {result.stderr}")
    return result


def timed(args, env, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(args, env)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--points", type=int, default=100000)
    parser.add_argument("--json")
    args = parser.parse_args()
    results = {}
    workdir = tempfile.mkdtemp(prefix="mlctl-bench-")
    env = dict(os.environ, MLCTL_PROJECT=os.path.join(workdir, "proj"))
    run(["init", env["MLCTL_PROJECT"], "-o", "json"])

    # Start-up on a small project.
    for i in range(5):
        run(["run", "create", "-e", "small", "--status", "completed", "--param", f"i={i}", "--metric", "m=1"], env)
    results["help_ms"] = timed(["--help"], env, 30) * 1000
    results["small_run_list_ms"] = timed(["run", "list", "-o", "json"], env, 30) * 1000
    some_id = run(["run", "list", "-o", "tsv", "--query", "[0].id"], env).stdout.strip()
    results["small_run_show_ms"] = timed(["run", "show", some_id, "-o", "json"], env, 30) * 1000

    # Run creation: like MLflow's create_run + log_params(5) + log_metrics(3).
    start = time.perf_counter()
    for i in range(args.runs):
        run(["run", "create", "-e", "big", "--status", "completed",
             "--param", f"p1={'a' if i % 2 else 'b'}", "--param", f"p2={i}", "--param", "p3=x",
             "--param", "p4=y", "--param", f"p5={i % 7}",
             "--tag", f"team={'xyz'[i % 3]}",
             "--metric", f"m1={(i % 100) / 100}", "--metric", f"m2={i}", "--metric", "m3=0.5"], env)
    results["runs_created_per_s"] = args.runs / (time.perf_counter() - start)
    results["list_10k_json_ms"] = timed(["run", "list", "-o", "json", "--top", str(args.runs + 5)], env, 5) * 1000
    results["list_10k_filter_ms"] = timed(
        ["run", "list", "-o", "json", "--filter",
         "metrics.m1 > 0.9 and (params.p1 = 'a' or tags.team in ('x', 'y'))"], env, 10) * 1000
    results["list_10k_filter_rows"] = len(json.loads(run(
        ["run", "list", "-o", "json", "--filter",
         "metrics.m1 > 0.9 and (params.p1 = 'a' or tags.team in ('x', 'y'))"], env).stdout))

    # 100,000 points through the metrics file, against the same job writing nowhere.
    points_file = os.path.join(workdir, "points.jsonl")
    with open(points_file, "w") as f:
        for i in range(args.points):
            f.write(json.dumps({"name": f"metric{i % 10}", "value": i * 0.5, "step": i // 10}) + "\n")
    baseline = timed(["experiment", "submit", "-e", "file", "--", "/bin/sh", "-c", f"cat {points_file} > /dev/null"],
                     env, 3)
    start = time.perf_counter()
    out = run(["experiment", "submit", "-e", "file", "-o", "json", "--", "/bin/sh", "-c",
               f"cat {points_file} >> $MLCTL_METRICS_FILE"], env)
    elapsed = time.perf_counter() - start
    run_id = json.loads(out.stdout)["id"]
    stored = json.loads(run(["run", "metrics", run_id, "-o", "json", "--query", "length(@)"], env).stdout)
    assert stored == args.points, f"stored {stored} of {args.points} points"
    results["metrics_file_points_per_s"] = args.points / max(elapsed - baseline, 1e-9)
    results["metrics_file_submit_s"] = elapsed
    results["metrics_file_baseline_s"] = baseline

    # Repeated `mlctl run log` calls.
    target = json.loads(run(["run", "create", "-e", "calls", "-o", "json"], env).stdout)["id"]
    calls = 2000
    start = time.perf_counter()
    for i in range(calls):
        run(["run", "log", "--run", target, "--metric", f"loss={i}"], env)
    results["run_log_calls_per_s"] = calls / (time.perf_counter() - start)
    batch = 1000
    metric_args = []
    for k in range(batch):
        metric_args += ["--metric", f"k{k}=1.5"]
    start = time.perf_counter()
    for i in range(args.points // batch):
        run(["run", "log", "--run", target, "--step", str(i)] + metric_args, env)
    results["run_log_batched_points_per_s"] = args.points / (time.perf_counter() - start)

    # 4 concurrent writers, each 50 calls of 500 points into its own run.
    writers, calls_each, per_call = 4, 50, 500
    ids = [json.loads(run(["run", "create", "-e", "concurrent", "-o", "json"], env).stdout)["id"]
           for _ in range(writers)]
    longest = [0.0] * writers
    lock_waits = [0.0] * writers
    failures = []
    timing_env = dict(env, MLCTL_TIMING="1")

    def writer(index):
        call_args = []
        for k in range(per_call):
            call_args += ["--metric", f"w{k}={index}"]
        for i in range(calls_each):
            begin = time.perf_counter()
            result = run(["run", "log", "--run", ids[index], "--step", str(i)] + call_args, timing_env, check=False)
            longest[index] = max(longest[index], time.perf_counter() - begin)
            for line in result.stderr.splitlines():
                if line.startswith("timing: "):
                    wait = float(line.split("lock_wait_ms=")[1]) / 1000.0
                    lock_waits[index] = max(lock_waits[index], wait)
            if result.returncode != 0:
                failures.append(result.stderr)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    total = writers * calls_each * per_call
    for run_id in ids:
        stored = json.loads(run(["run", "metrics", run_id, "-o", "json", "--query", "length(@)"], env).stdout)
        assert stored == calls_each * per_call, f"run {run_id} stored {stored} points"
    results["concurrent_points_per_s"] = total / elapsed
    results["concurrent_longest_call_ms"] = max(longest) * 1000
    results["concurrent_longest_lock_wait_ms"] = max(lock_waits) * 1000
    results["concurrent_failures"] = len(failures)

    shutil.rmtree(workdir)
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value:,.1f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
