#!/usr/bin/env python3
"""Sweep benchmark (issue: hyperparameter sweeps). Not in CI.

Side by side in one run, against Optuna (Debian's python3-optuna, run with
/usr/bin/python3):
  1. quality: the Branin and 6-D Hartmann functions, 50 trials, 10 seeds,
     mlctl's bayesian and random samplers (in process, mlctl_sampler_bench)
     vs Optuna's TPESampler and RandomSampler; median and quartiles of the
     best value after 10, 25 and 50 trials.
  2. sampler cost: time to propose each of 1,000 trials on Hartmann6
     (median of all, median and p90 of the last 100).
  3. overhead per trial beyond the trial's own process: 100 trials of the
     command `true` run by `mlctl experiment submit -f sweep.yml` vs an
     Optuna study with SQLite storage that runs the same command per trial;
     the cost of starting `true` alone is subtracted from both.
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MLCTL = os.environ.get("MLCTL", os.path.join(ROOT, "build", "bin", "mlctl"))
SAMPLER_BENCH = os.environ.get("MLCTL_SAMPLER_BENCH", os.path.join(os.path.dirname(MLCTL), "mlctl_sampler_bench"))
PYTHON = os.environ.get("OPTUNA_PYTHON", "/usr/bin/python3")
SEEDS = range(10)
TRIALS = 50
CHECKPOINTS = (10, 25, 50)

# Optuna's side runs in a child interpreter so that this script needs only
# the standard library.
OPTUNA_QUALITY = r"""
import json, math, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
function, sampler_name, seed, trials = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]
def objective(trial):
    if function == "branin":
        x1 = trial.suggest_float("x1", -5, 10); x2 = trial.suggest_float("x2", 0, 15)
        b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
        return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    x = [trial.suggest_float("x%d" % (i + 1), 0, 1) for i in range(6)]
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))) for i in range(4))
sampler = optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe" else optuna.samplers.RandomSampler(seed=seed)
study = optuna.create_study(sampler=sampler, direction="minimize")
best = []
for _ in range(trials):
    study.optimize(objective, n_trials=1)
    best.append(study.best_value)
print(json.dumps(best))
"""

OPTUNA_COST = r"""
import json, math, sys, time
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]
study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1), direction="minimize")
times = []
for _ in range(int(sys.argv[1])):
    began = time.perf_counter()
    trial = study.ask()
    x = [trial.suggest_float("x%d" % (i + 1), 0, 1) for i in range(6)]
    times.append((time.perf_counter() - began) * 1000)
    study.tell(trial, -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))) for i in range(4)))
print(json.dumps(times))
"""

OPTUNA_OVERHEAD = r"""
import subprocess, sys, time
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage, trials = sys.argv[1], int(sys.argv[2])
study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=1), direction="maximize")
def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    subprocess.run(["/bin/bash", "-c", "true %s" % x], check=True)
    return x
began = time.perf_counter()
study.optimize(objective, n_trials=trials)
print(time.perf_counter() - began)
"""


def quartiles(values):
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]


def mlctl_quality(function, sampler, seed):
    out = subprocess.run([SAMPLER_BENCH, "quality", function, sampler, str(seed), str(TRIALS)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return [float(line) for line in out.split()]


def optuna_quality(function, sampler, seed):
    out = subprocess.run([PYTHON, "-c", OPTUNA_QUALITY, function, sampler, str(seed), str(TRIALS)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out)


def quality():
    print("== best value after 10/25/50 trials, median [q1, q3] over 10 seeds (lower is better)")
    print("   optima: branin 0.397887, hartmann6 -3.32237")
    results = {}
    for function in ("branin", "hartmann6"):
        for name, run in (("mlctl bayesian", lambda s: mlctl_quality(function, "bayesian", s)),
                          ("optuna TPE", lambda s: optuna_quality(function, "tpe", s)),
                          ("mlctl random", lambda s: mlctl_quality(function, "random", s)),
                          ("optuna random", lambda s: optuna_quality(function, "random", s))):
            curves = [run(seed) for seed in SEEDS]
            cells = []
            for checkpoint in CHECKPOINTS:
                q1, median, q3 = quartiles([curve[checkpoint - 1] for curve in curves])
                cells.append("%8.3f [%7.3f, %7.3f]" % (median, q1, q3))
                results[(function, name, checkpoint)] = median
            print("%-9s %-15s %s" % (function, name, "  ".join(cells)), flush=True)
    optimum = {"branin": 0.397887, "hartmann6": -3.32237}
    for function in ("branin", "hartmann6"):
        ours = results[(function, "mlctl bayesian", 50)] - optimum[function]
        theirs = results[(function, "optuna TPE", 50)] - optimum[function]
        print("%-9s regret at 50: mlctl bayesian %.4f vs optuna TPE %.4f (ratio %.3f; target <= 0.5)"
              % (function, ours, theirs, ours / theirs if theirs > 0 else float("nan")))


def cost():
    print("== sampler cost per proposal with up to 1,000 trials of history (Hartmann6)")
    ours = [float(x) for x in subprocess.run([SAMPLER_BENCH, "cost", "1000"], stdout=subprocess.PIPE, text=True,
                                             check=True).stdout.split()]
    theirs = json.loads(subprocess.run([PYTHON, "-c", OPTUNA_COST, "1000"], stdout=subprocess.PIPE, text=True,
                                       check=True).stdout)
    for name, times in (("mlctl bayesian", ours), ("optuna TPE", theirs)):
        last = sorted(times[-100:])
        print("%-15s median %.2f ms, last 100: median %.2f ms, p90 %.2f ms, max %.2f ms" %
              (name, statistics.median(times), statistics.median(last), last[89], max(times)))


def process_cost(runs=100):
    began = time.perf_counter()
    for i in range(runs):
        subprocess.run(["/bin/bash", "-c", "true %d" % i], check=True)
    return (time.perf_counter() - began) / runs


def overhead(trials=100):
    print("== sweep overhead per trial beyond the trial's process (%d trials of `true`, one at a time)" % trials)
    alone = process_cost()
    with tempfile.TemporaryDirectory() as project:
        subprocess.run([MLCTL, "init", project], stdout=subprocess.DEVNULL, check=True)
        with open(os.path.join(project, "sweep.yml"), "w") as f:
            f.write("type: sweep\ntrial:\n  command: true ${{search_space.x}}\n"
                    "search_space:\n  x: {type: uniform, min_value: 0, max_value: 1}\n"
                    "sampling_algorithm: {type: random, seed: 1}\n"
                    "objective: {primary_metric: x, goal: maximize}\n"
                    "limits: {max_total_trials: %d}\n" % trials)
        began = time.perf_counter()
        subprocess.run([MLCTL, "--project", project, "experiment", "submit", "-f", os.path.join(project, "sweep.yml")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        ours = (time.perf_counter() - began) / trials - alone
        storage = "sqlite:///" + os.path.join(project, "optuna.db")
        wall = float(subprocess.run([PYTHON, "-c", OPTUNA_OVERHEAD, storage, str(trials)], stdout=subprocess.PIPE,
                                    text=True, check=True).stdout)
        theirs = wall / trials - alone
    print("starting the trial process alone: %.2f ms" % (alone * 1000))
    print("mlctl sweep:           %.2f ms per trial (target < 10 ms)" % (ours * 1000))
    print("optuna, SQLite storage: %.2f ms per trial (ratio mlctl/optuna %.2f)" % (theirs * 1000, ours / theirs))


if __name__ == "__main__":
    parts = sys.argv[1:] or ["quality", "cost", "overhead"]
    for part in parts:
        {"quality": quality, "cost": cost, "overhead": overhead}[part]()
