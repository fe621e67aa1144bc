#!/usr/bin/env python3
"""Loading the torch backend with and without its library stubs. Not in CI.

The backend names empty stand-ins for the libraries Debian's libtorch_cpu.so
names but never calls (cmake/MlctlTorchStubs.cmake), found through its
RUNPATH. LD_LIBRARY_PATH is searched before a RUNPATH, so the same build
loads the real libraries when it points at the system's library directory.
This times `mlctl version --backend` and the churn example's `experiment
submit` both ways, alternately, and counts the libraries each loads.

usage: bench_backend_load.py [REPEATS]   (default 10)
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MLCTL = os.environ.get("MLCTL", os.path.join(ROOT, "build", "bin", "mlctl"))
REAL_LIBRARIES = {"LD_LIBRARY_PATH": "/usr/lib/x86_64-linux-gnu"}


def seconds(args, extra_env, cwd):
    env = dict(os.environ, **extra_env)
    began = time.perf_counter()
    subprocess.run([MLCTL] + args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def libraries_loaded(extra_env):
    env = dict(os.environ, LD_DEBUG="files", **extra_env)
    out = subprocess.run([MLCTL, "version", "--backend"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, check=True)
    return sum("generating link map" in line for line in out.stderr.splitlines())


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    project = tempfile.mkdtemp(prefix="mlctl-bench-load-")
    subprocess.run([MLCTL, "init", project, "-o", "json"], stdout=subprocess.DEVNULL, check=True)
    print(f"libraries loaded: {libraries_loaded({})} with the stubs, {libraries_loaded(REAL_LIBRARIES)} without")
    commands = {
        "mlctl version --backend": ["version", "--backend"],
        "churn experiment submit": ["experiment", "submit", "-f", os.path.join(ROOT, "examples/churn/train.yml"),
                                    "-o", "json"],
    }
    for name, args in commands.items():
        stubbed, real = [], []
        for _ in range(repeats):
            stubbed.append(seconds(args, {}, project))
            real.append(seconds(args, REAL_LIBRARIES, project))
        print(f"{name}: median / best {statistics.median(stubbed):.3f} / {min(stubbed):.3f} s with the stubs, "
              f"{statistics.median(real):.3f} / {min(real):.3f} s without "
              f"({statistics.median(stubbed) / statistics.median(real):.2f}x)")


if __name__ == "__main__":
    main()
