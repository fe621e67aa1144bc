#!/usr/bin/env python3
"""Pipeline benchmark (issue: pipelines). Not in CI.

A 20-step pipeline of trivial command steps (`true`, each depending on the
one before, so nothing overlaps): mlctl's scheduling overhead per step
(wall time of the run, less the cost of starting each step's process
alone, divided by 20) and the wall time of a fully reused re-run.
"""
import os
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MLCTL = os.environ.get("MLCTL", os.path.join(ROOT, "build", "bin", "mlctl"))
STEPS = 20


def pipeline_yaml(tag):
    lines = ["type: pipeline", "display_name: bench", "jobs:"]
    for i in range(STEPS):
        lines.append(f"  s{i}:")
        lines.append(f"    command: true {tag} {i}")
        if i > 0:
            lines.append(f"    needs: [s{i - 1}]")
    return "\n".join(lines) + "\n"


def timed(args, env):
    began = time.perf_counter()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def main():
    alone = []
    for i in range(50):
        began = time.perf_counter()
        subprocess.run(["/bin/bash", "-c", f"true {i}"], check=True)
        alone.append(time.perf_counter() - began)
    process = statistics.median(alone)
    with tempfile.TemporaryDirectory() as work:
        project = os.path.join(work, "proj")
        subprocess.run([MLCTL, "init", project], stdout=subprocess.DEVNULL, check=True)
        env = dict(os.environ, MLCTL_PROJECT=project)
        fresh, reused = [], []
        for attempt in range(5):
            path = os.path.join(work, f"p{attempt}.yml")
            with open(path, "w") as f:
                f.write(pipeline_yaml(f"run{attempt}"))
            fresh.append(timed([MLCTL, "pipeline", "run", "-f", path, "-o", "json"], env))
            reused.append(timed([MLCTL, "pipeline", "run", "-f", path, "-o", "json"], env))
    wall = statistics.median(fresh)
    print(f"starting a step's process alone (bash -c true): {process * 1000:.2f} ms")
    print(f"20-step pipeline, every step run:  {wall * 1000:.1f} ms wall, "
          f"{(wall / STEPS - process) * 1000:.2f} ms scheduling overhead per step (target < 10 ms)")
    print(f"the same pipeline again, every step reused: {statistics.median(reused) * 1000:.1f} ms wall (target < 100 ms)")


if __name__ == "__main__":
    main()
