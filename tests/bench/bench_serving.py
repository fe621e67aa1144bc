#!/usr/bin/env python3
"""Serving benchmark for mlctl (issue 7). Not part of CI.

Trains the churn MLP (examples/churn/train-mlp.yml) in a fresh project,
registers it as churn@production, and serves it four ways on 127.0.0.1:
  - mlctl:    `mlctl service create ... --threads 2`;
  - flask:    Flask's threaded built-in server, one process;
  - gunicorn: the Flask app under gunicorn, 2 sync workers;
  - fastapi:  the FastAPI app under uvicorn, 2 workers.
The Python servers (serving_python_app.py) load the same model directory
into PyTorch with one thread each. Then, per server:
  - checks a batch of predictions (probabilities sum to 1; the Python
    servers are also compared with `mlctl model predict`);
  - memory: the RSS and PSS of the server's process tree, sampled every
    second during a --memory-seconds wrk run at concurrency 8 (start, max,
    end);
  - throughput and latency: wrk at each --concurrency for --duration
    seconds, one churn row per POST /score.
Prints a table with mlctl's ratios to the best Python server and writes
JSON to --json if given.

The driver is stdlib only; the servers need Debian's python3-torch,
python3-flask, python3-fastapi, gunicorn and uvicorn (run by --python,
/usr/bin/python3 by default), and the load needs wrk.
"""
import argparse
import csv
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHURN_DIR = os.path.join(ROOT, "examples", "churn")
CHURN_DATA = os.path.join(CHURN_DIR, "data", "breast_cancer.csv")
CHURN_LABEL = "diagnosis"
PYTHON_SERVERS = ("flask", "gunicorn", "fastapi")
ALL_SERVERS = ("mlctl",) + PYTHON_SERVERS
MEMORY_CONCURRENCY = 8
CHECK_ROWS = 20  # rows in the prediction check's batch


def log(message):
    print(f"bench_serving: {message}", file=sys.stderr, flush=True)


class Mlctl:
    """Runs the mlctl binary against one project."""

    def __init__(self, binary, project):
        self.binary = binary
        self.project = project

    def run(self, args, cwd=None, check=True, in_project=True):
        project = ["--project", self.project] if in_project else []
        result = subprocess.run([self.binary] + project + args, cwd=cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and result.returncode != 0:
            sys.exit(f"bench_serving: mlctl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def json(self, args, cwd=None):
        return json.loads(self.run(args + ["-o", "json"], cwd=cwd).stdout)


def set_up_project(mlctl, workdir):
    """Trains and registers churn@production; returns the downloaded model
    directory, which the Python servers load."""
    mlctl.run(["init", mlctl.project], in_project=False)
    log("training examples/churn/train-mlp.yml")
    submitted = mlctl.json(["experiment", "submit", "-f", "train-mlp.yml"], cwd=CHURN_DIR)
    run_id = submitted["id"]
    if submitted.get("status") != "completed":
        sys.exit(f"bench_serving: training run {run_id} ended {submitted.get('status')}: "
                 f"{submitted.get('status_reason')}")
    mlctl.run(["model", "register", "--name", "churn", "--run", run_id, "--alias", "production"])
    model_dir = os.path.join(workdir, "model")
    mlctl.run(["model", "download", "churn@production", "--dest", model_dir])
    if not os.path.exists(os.path.join(model_dir, "model.json")):
        sys.exit(f"bench_serving: no model.json in {model_dir}, where `mlctl model download` put the model")
    return run_id, model_dir


def read_churn_rows():
    """The churn data's feature rows (floats, the label left out)."""
    with open(CHURN_DATA, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        label = header.index(CHURN_LABEL)
        return [[float(cell) for i, cell in enumerate(row) if i != label] for row in reader if row]


def free_port():
    # The port is free when we ask; a server taking it a moment later is
    # the usual small race, harmless on a benchmark machine.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


# --- process trees and memory ----------------------------------------------

def parent_pids():
    """{pid: ppid} for every process, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        # The command name may hold spaces and parentheses; fields resume
        # after the last ')': state, then ppid.
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def process_tree(root):
    parents = parent_pids()
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier += children
    return tree


def tree_memory_bytes(root):
    """(RSS, PSS) summed over `root` and all its descendants. RSS counts a
    page shared between the processes (libtorch's code, a forked worker's
    copy-on-write pages) once per process, as `ps` does, which overstates
    multi-process servers; PSS splits each shared page among its sharers,
    so it is their fair total."""
    page = os.sysconf("SC_PAGE_SIZE")
    rss, pss = 0, 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                process_rss = int(f.read().split()[1]) * page
            with open(f"/proc/{pid}/smaps_rollup") as f:  # Linux 4.14 and later
                process_pss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue  # exited meanwhile
        rss += process_rss
        pss += process_pss
    return rss, pss


def listening_pid(port):
    """The topmost process holding a listening TCP socket on `port`, or None
    (for a server we did not start, whose pid we are not told)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    owners = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{entry}/fd")):
                owners.add(int(entry))
        except OSError:
            continue
    parents = parent_pids()
    tops = [pid for pid in owners if parents.get(pid) not in owners]
    return min(tops) if tops else None


# --- servers ------------------------------------------------------------------

class ServerFailed(Exception):
    pass


class PythonServer:
    """A Python server started by this driver, in its own process group so
    that stopping it stops its workers too."""

    def __init__(self, name, python, model_dir, logdir):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = os.path.join(HERE, "serving_python_app.py")
        host = "127.0.0.1"
        commands = {
            "flask": [python, app, "flask", "--model-dir", model_dir, "--host", host, "--port", str(self.port)],
            "gunicorn": [python, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"{host}:{self.port}",
                         "--chdir", HERE, "serving_python_app:flask_app()"],
            "fastapi": [python, "-m", "uvicorn", "--workers", "2", "--host", host, "--port", str(self.port),
                        "--no-access-log", "--factory", "--app-dir", HERE, "serving_python_app:fastapi_app"],
        }
        self.command = commands[name]
        self.env = dict(os.environ, MLCTL_BENCH_MODEL_DIR=model_dir)
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.process = None

    def start(self):
        with open(self.log_path, "w") as log_file:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def pid(self):
        return self.process.pid

    def exited(self):
        return self.process.poll() is not None

    def log_tail(self):
        with open(self.log_path) as f:
            return "".join(f.readlines()[-15:])

    def stop(self):
        if self.process is None or self.exited():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class MlctlServer:
    """mlctl's scoring service, started and stopped through the CLI."""

    name = "mlctl"

    def __init__(self, mlctl):
        self.mlctl = mlctl
        self.port = free_port()
        self.url = None
        self.service_pid = None
        self.created = False

    def start(self):
        result = self.mlctl.run(["service", "create", "--name", "bench", "--model", "churn@production",
                                 "--env", "staging", "--port", str(self.port), "--threads", "2", "-o", "json"],
                                check=False)
        if result.returncode != 0:
            raise ServerFailed(f"`mlctl service create` failed ({result.returncode}): "
                               f"{result.stderr.strip() or result.stdout.strip()}")
        self.created = True
        try:
            answer = json.loads(result.stdout)
            self.url = answer["url"].rstrip("/")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ServerFailed(f"`mlctl service create` printed no JSON with a \"url\": {result.stdout.strip()[:300]}")
        if isinstance(answer.get("pid"), int):
            self.service_pid = answer["pid"]

    def pid(self):
        # The service is not our child; find it by its listening socket when
        # `service create` does not say.
        if self.service_pid is None:
            self.service_pid = listening_pid(self.port)
        return self.service_pid

    def exited(self):
        return False  # not ours to watch; wait_healthy times out instead

    def log_tail(self):
        return f"(see `mlctl --project {self.mlctl.project} service` for its logs)"

    def stop(self):
        if self.created:
            result = self.mlctl.run(["service", "delete", "bench"], check=False)
            if result.returncode != 0:
                log(f"mlctl service delete bench failed: {result.stderr.strip()}")
            self.created = False
            # The service finishes its requests in flight after delete
            # returns; wait for it, so that it does not share the CPU with
            # the next server.
            deadline = time.monotonic() + 15
            while self.service_pid and os.path.exists(f"/proc/{self.service_pid}") \
                    and time.monotonic() < deadline:
                time.sleep(0.1)


def wait_healthy(server, timeout=120):
    """Waits for GET /health to answer 200; importing torch in two workers
    on a busy two-core machine takes a while."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.exited():
            raise ServerFailed(f"{server.name} exited before it was healthy:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as response:
                if response.status == 200:
                    return json.loads(response.read() or b"{}")
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass
        time.sleep(0.2)
    raise ServerFailed(f"{server.name} was not healthy after {timeout} s:\n{server.log_tail()}")


def check_predictions(server, rows, classes):
    """Scores a batch and checks the answer's shape; returns its
    probabilities. Raises ServerFailed when the answer is not sensible."""
    answer = http_json(server.url + "/score", {"data": rows})
    predictions, probabilities = answer.get("predictions"), answer.get("probabilities")
    if not isinstance(predictions, list) or not isinstance(probabilities, list) \
            or len(predictions) != len(rows) or len(probabilities) != len(rows):
        raise ServerFailed(f"{server.name}: /score answered {json.dumps(answer)[:300]}")
    for label, p in zip(predictions, probabilities):
        if abs(sum(p) - 1) > 1e-4 or min(p) < 0:
            raise ServerFailed(f"{server.name}: probabilities {p} do not sum to 1")
        if classes and label != classes[p.index(max(p))]:
            raise ServerFailed(f"{server.name}: prediction {label!r} is not the most probable class of {p}")
    return probabilities


def mlctl_reference(mlctl, workdir, rows):
    """mlctl's own probabilities for `rows` (batch `model predict`), to
    check that the Python servers really serve the trained model."""
    with open(CHURN_DATA, newline="") as f:
        header = next(csv.reader(f))
    features = [name for name in header if name != CHURN_LABEL]
    path = os.path.join(workdir, "check.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(features)
        writer.writerows([repr(v) for v in row] for row in rows)
    result = mlctl.run(["model", "predict", "--model", "churn@production", "--input", path, "-o", "json"], check=False)
    if result.returncode != 0:
        log(f"mlctl model predict failed, predictions not compared: {result.stderr.strip()}")
        return None
    return [row["probabilities"] for row in json.loads(result.stdout)]


# --- load ----------------------------------------------------------------------

def write_wrk_script(path, row):
    """A wrk script posting one churn row per request. wrk's summary counts
    the non-2xx answers ("Non-2xx or 3xx responses: N"); a Lua response()
    hook would count them too, but would slow wrk down for every reply."""
    body = json.dumps({"data": [row]})
    with open(path, "w") as f:
        f.write("-- Written by bench_serving.py: one churn row per POST /score.\n")
        f.write('wrk.method = "POST"\n')
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f"wrk.body = [==[{body}]==]\n")


def wrk_command(url, concurrency, duration, script):
    threads = 1 if concurrency == 1 else 2
    # A 10 s timeout instead of wrk's 2 s, so that a slow server's tail shows
    # in p99 instead of vanishing into the timeout count.
    return ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration}s", "--timeout", "10s", "--latency",
            "-s", script, url + "/score"]


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output):
    """Requests/s, p50/p99 latency (ms) and error counts from wrk's report."""
    def number(pattern, default=0):
        match = re.search(pattern, output, re.MULTILINE)
        return float(match.group(1)) if match else default

    latency = {}
    for percent, value, unit in re.findall(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE):
        latency[percent] = to_ms(value, unit)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if "Requests/sec" not in output or len(latency) != 2:
        raise ValueError(f"unexpected wrk output:\n{output}")
    return {
        "requests": int(number(r"^\s+(\d+) requests in")),
        "requests_per_s": number(r"^Requests/sec:\s+([\d.]+)"),
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def run_wrk(url, concurrency, duration, script):
    result = subprocess.run(wrk_command(url, concurrency, duration, script),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise ServerFailed(f"wrk failed ({result.returncode}):\n{result.stdout}")
    return parse_wrk(result.stdout)


def measure_memory(server, seconds, script):
    """RSS of the server's process tree (MB): before, at most during, and
    after a `seconds`-long wrk run at MEMORY_CONCURRENCY; PSS likewise."""
    pid = server.pid()
    if pid is None:
        log(f"{server.name}: no process found on port {server.port}; memory not measured")
        return None
    samples = [tree_memory_bytes(pid)]
    load = subprocess.Popen(wrk_command(server.url, MEMORY_CONCURRENCY, seconds, script),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while load.poll() is None:
        time.sleep(1)
        samples.append(tree_memory_bytes(pid))
    output = load.communicate()[0]
    samples.append(tree_memory_bytes(pid))
    report = {"server": server.name, "pid": pid, "processes": len(process_tree(pid)), "samples": len(samples)}
    for i, kind in enumerate(("rss", "pss")):
        values = [sample[i] / (1024 * 1024) for sample in samples]
        report.update({f"{kind}_start_mb": values[0], f"{kind}_max_mb": max(values), f"{kind}_end_mb": values[-1]})
    try:
        report["requests_per_s"] = parse_wrk(output)["requests_per_s"]
    except ValueError:
        log(f"{server.name}: the memory run's wrk output was unreadable:\n{output}")
    return report


def bench_server(server, args, script, check_rows, classes):
    """Starts `server`, checks it, measures it and stops it. Returns
    {"results": [one per concurrency], "memory": report or None,
    "probabilities": of check_rows, "weights": what /health says}."""
    try:
        server.start()
        health = wait_healthy(server)
        if health.get("weights") == "random":
            log(f"{server.name}: serving RANDOM weights (mlctl's weights.pt did not load)")
        measured = {"results": [], "memory": None, "weights": health.get("weights"),
                    "probabilities": check_predictions(server, check_rows, classes)}
        # The memory run comes first, so that its start is the idle server's
        # footprint; it also warms the server up for the runs after it.
        if args.memory_seconds > 0:
            log(f"{server.name}: memory, {args.memory_seconds} s at concurrency {MEMORY_CONCURRENCY}")
            measured["memory"] = measure_memory(server, args.memory_seconds, script)
        else:
            run_wrk(server.url, MEMORY_CONCURRENCY, 2, script)
        for concurrency in args.concurrency:
            log(f"{server.name}: {args.duration} s at concurrency {concurrency}")
            row = {"server": server.name, "concurrency": concurrency}
            row.update(run_wrk(server.url, concurrency, args.duration, script))
            measured["results"].append(row)
        return measured
    finally:
        server.stop()


# --- report --------------------------------------------------------------------

def ratios(results, memory):
    """mlctl against the best Python server: at each concurrency the one with
    the most requests/s (and, separately, the lowest p99); in memory the
    smallest peak."""
    out = []
    for concurrency in sorted({r["concurrency"] for r in results}):
        here = [r for r in results if r["concurrency"] == concurrency]
        ours = next((r for r in here if r["server"] == "mlctl"), None)
        python = [r for r in here if r["server"] != "mlctl"]
        if not ours or not python:
            continue
        fastest = max(python, key=lambda r: r["requests_per_s"])
        tightest = min(python, key=lambda r: r["p99_ms"])
        out.append({"concurrency": concurrency,
                    "requests_per_s_ratio": ours["requests_per_s"] / fastest["requests_per_s"],
                    "vs_requests_per_s": fastest["server"],
                    "p99_ratio": ours["p99_ms"] / tightest["p99_ms"], "vs_p99": tightest["server"]})
    ours = next((m for m in memory if m["server"] == "mlctl"), None)
    python = [m for m in memory if m["server"] != "mlctl"]
    if ours and python:
        for kind in ("rss", "pss"):
            smallest = min(python, key=lambda m: m[f"{kind}_max_mb"])
            out.append({"memory": kind, "max_ratio": ours[f"{kind}_max_mb"] / smallest[f"{kind}_max_mb"],
                        "vs": smallest["server"]})
    return out


def print_report(results, memory, ratio_rows):
    print(f"{'server':<10} {'conc':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        errors = r["non_2xx"] + r["socket_errors"]
        print(f"{r['server']:<10} {r['concurrency']:>5} {r['requests_per_s']:>10.0f} {r['p50_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {errors:>7}")
    if memory:
        print(f"\nMemory of the server's process tree, MB, under {MEMORY_CONCURRENCY} connections:")
        print(f"{'server':<10} {'procs':>5} {'RSS start':>10} {'max':>8} {'end':>8} {'PSS max':>8} {'req/s':>8}")
        for m in memory:
            print(f"{m['server']:<10} {m['processes']:>5} {m['rss_start_mb']:>10.1f} {m['rss_max_mb']:>8.1f} "
                  f"{m['rss_end_mb']:>8.1f} {m['pss_max_mb']:>8.1f} {m.get('requests_per_s', 0):>8.0f}")
    if ratio_rows:
        print("\nmlctl / best Python server:")
        for r in ratio_rows:
            if "concurrency" in r:
                print(f"  concurrency {r['concurrency']:>3}: req/s x{r['requests_per_s_ratio']:.2f} "
                      f"(vs {r['vs_requests_per_s']}), p99 x{r['p99_ratio']:.2f} (vs {r['vs_p99']})")
            else:
                print(f"  peak {r['memory'].upper()} x{r['max_ratio']:.2f} (vs {r['vs']})")


def python_versions(python):
    script = ("import json, importlib\nv = {}\n"
              "for m in ('torch', 'flask', 'werkzeug', 'gunicorn', 'fastapi', 'pydantic', 'uvicorn', 'uvloop', "
              "'httptools'):\n"
              "    try: v[m] = importlib.import_module(m).__version__\n"
              "    except Exception: v[m] = None\n"
              "print(json.dumps(v))")
    result = subprocess.run([python, "-c", script], stdout=subprocess.PIPE, text=True)
    return json.loads(result.stdout) if result.returncode == 0 else {}


def parse_args():
    default_mlctl = os.environ.get("MLCTL", os.path.join(ROOT, "build", "bin", "mlctl"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mlctl", default=default_mlctl, help="the mlctl binary (default: $MLCTL or build/bin/mlctl)")
    parser.add_argument("--python", default="/usr/bin/python3",
                        help="the Python that runs the servers: Debian's, where python3-torch is installed")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--concurrency", default="1,8,64", help="open connections, comma-separated")
    parser.add_argument("--servers", default=",".join(ALL_SERVERS), help="comma-separated, of " + ",".join(ALL_SERVERS))
    parser.add_argument("--memory-seconds", type=int, default=60, help="length of the memory run (0: none)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project and server logs")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.servers = args.servers.split(",")
    unknown = set(args.servers) - set(ALL_SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    return args


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_serving: wrk is not installed (apt-get install wrk)")
    mlctl_path = os.path.abspath(args.mlctl)
    if not os.access(mlctl_path, os.X_OK):
        sys.exit(f"bench_serving: no mlctl binary at {mlctl_path} (build it, or pass --mlctl)")
    workdir = tempfile.mkdtemp(prefix="mlctl-bench-serving-")
    logdir = os.path.join(workdir, "logs")
    os.makedirs(logdir)
    mlctl = Mlctl(mlctl_path, os.path.join(workdir, "project"))
    report = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "load_average_at_start": os.getloadavg(), "python_versions": python_versions(args.python),
              "settings": {"duration_s": args.duration, "concurrency": args.concurrency,
                           "memory_seconds": args.memory_seconds, "memory_concurrency": MEMORY_CONCURRENCY},
              "results": [], "memory": [], "skipped": {}, "weights": {}, "max_probability_difference": {}}
    ok = False
    try:
        run_id, model_dir = set_up_project(mlctl, workdir)
        report["run"] = run_id
        with open(os.path.join(model_dir, "preprocessor.json")) as f:
            classes = json.load(f)["label"]["classes"]
        rows = read_churn_rows()
        script = os.path.join(workdir, "score.lua")
        write_wrk_script(script, rows[0])
        check_rows = rows[:CHECK_ROWS]
        reference = mlctl_reference(mlctl, workdir, check_rows) if set(args.servers) & set(PYTHON_SERVERS) else None

        for name in args.servers:
            server = MlctlServer(mlctl) if name == "mlctl" else PythonServer(name, args.python, model_dir, logdir)
            try:
                measured = bench_server(server, args, script, check_rows, classes)
            except (ServerFailed, urllib.error.URLError, OSError, ValueError) as error:
                log(f"{name}: skipped: {error}")
                report["skipped"][name] = str(error)
                continue
            report["results"] += measured["results"]
            report["weights"][name] = measured["weights"]
            if measured["memory"]:
                report["memory"].append(measured["memory"])
            if reference and name != "mlctl":
                difference = max(abs(a - b) for ours, theirs in zip(measured["probabilities"], reference)
                                 for a, b in zip(ours, theirs))
                report["max_probability_difference"][name] = difference
                log(f"{name}: probabilities differ from mlctl model predict by at most {difference:.2g}")
        report["ratios"] = ratios(report["results"], report["memory"])
        print_report(report["results"], report["memory"], report["ratios"])
        for name, reason in report["skipped"].items():
            print(f"skipped {name}: {reason.splitlines()[0]}")
        ok = True
    finally:
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=2)
        if args.keep or not ok:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
