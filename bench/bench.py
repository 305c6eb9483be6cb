"""`make bench`: the collection against the alternatives, on the local emulator.

Starts the emulator (HTTP, and HTTPS behind a proxy that delays each new connection),
runs each scenario several times with real ansible-playbook processes (or, for the
per-request transport costs, in-process), and prints one table: median, min and max
wall time, the marginal time (wall time minus an empty playbook's, measured in the
same run), the requests the emulator saw, and the ratio to the scenario's baseline
(also measured in the same run). Then it checks the issue's goals against the
figures. Everything is also written as JSON (--json, default .build/bench/results.json).

    python bench/bench.py [--quick] [--only GROUP ...] [--json PATH]

Figures only: nothing here asserts a time; tests never assert wall-clock times.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".build" / "collections"
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "edgeops" / "cloudflare"
CALLBACKS = ROOT / "tests" / "e2e" / "callback_plugins"
ANSIBLE_BIN = Path(sys.executable).parent
CLOUDFLARE_LIMIT = {"requests": 1200, "window_seconds": 300}
SEED_BATCH = 1000


def ensure_collection_link():
    """.build/collections/ansible_collections/edgeops/cloudflare -> this checkout, importable."""
    if not (COLLECTION_LINK.is_symlink() and COLLECTION_LINK.resolve() == ROOT):
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        tmp = COLLECTION_LINK.with_name(f"cloudflare.tmp{os.getpid()}")
        tmp.symlink_to(ROOT, target_is_directory=True)
        os.replace(tmp, COLLECTION_LINK)
    sys.path.insert(0, str(COLLECTIONS))


ensure_collection_link()
sys.path.insert(0, str(Path(__file__).resolve().parent))

from delay_proxy import DelayProxy  # noqa: E402

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (  # noqa: E402
    MAIN_ACCOUNT,
    MEMBER_ACCOUNTS,
    TOKEN,
    Emulator,
)

A = MEMBER_ACCOUNTS[0]


def log(message):
    print(message, file=sys.stderr, flush=True)


def spec(number, prefix="bench", recipients=(A,)):
    return {
        "name": f"{prefix}-{number:05d}",
        "recipients": [{"account_id": r} for r in recipients],
        "resources": [
            {
                "resource_type": "custom-ruleset",
                "resource_id": f"{number:032x}",
                "resource_account_id": MAIN_ACCOUNT,
                "meta": {},
            }
        ],
    }


def seed(emulator, count, prefix="bench", start=0):
    for first in range(start, start + count, SEED_BATCH):
        emulator.seed([spec(n, prefix) for n in range(first, min(start + count, first + SEED_BATCH))])


class Row(dict):
    """One line of the table."""


class Bench:
    def __init__(self, workdir, quick=False, reps=3):
        self.workdir = Path(workdir)
        self.quick = quick
        self.reps = 1 if quick else reps
        self.rows = []
        self.count = 0
        self.empty_seconds = None
        self.inventory = self.workdir / "inventory.yml"
        self.inventory.write_text(
            json.dumps(
                {
                    "all": {
                        "hosts": {
                            "localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                        }
                    }
                }
            )
        )
        self.rss_python = self._rss_wrapper()
        self.on_start = None  # called with the Popen of each ansible-playbook run (the worker memory scenario)

    def _rss_wrapper(self):
        """An interpreter for ansible_python_interpreter that records the module process's peak RSS."""
        path = self.workdir / "peak-rss-python"
        path.write_text(
            f"#!{sys.executable}\n"
            "import os, subprocess, sys\n"
            f"child = subprocess.Popen([{sys.executable!r}] + sys.argv[1:])\n"
            "_, status, usage = os.wait4(child.pid, 0)\n"
            "child.returncode = os.waitstatus_to_exitcode(status)\n"
            "with open(os.environ['BENCH_RSS_FILE'], 'a') as out:\n"
            "    out.write('%d\\n' % usage.ru_maxrss)\n"
            "sys.exit(child.returncode)\n"
        )
        path.chmod(0o755)
        return path

    # --- one ansible-playbook run ------------------------------------------------------------------------

    def playbook(self, emulator, tasks, extra_vars=None, rss=False, base_url=None):
        """Run one play; return (seconds, task results, peak RSS in KiB or None).

        The peak with ``rss``: of the module processes if any ran, else of the worker (sampled every 20 ms)."""
        self.count += 1
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        path = self.workdir / (f"play-{self.count}.yml")
        path.write_text(json.dumps(play))
        results = self.workdir / (f"results-{self.count}.jsonl")
        rss_file = self.workdir / (f"rss-{self.count}")
        env = dict(
            os.environ,
            CLOUDFLARE_API_TOKEN=TOKEN,
            CLOUDFLARE_ACCOUNT_ID=MAIN_ACCOUNT,
            CLOUDFLARE_BASE_URL=base_url or emulator.base_url,
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
            ANSIBLE_CALLBACKS_ENABLED="record_results",
            RECORD_RESULTS_FILE=str(results),
            BENCH_RSS_FILE=str(rss_file),
            ANSIBLE_LOCAL_TEMP=str(self.workdir / "tmp"),
            ANSIBLE_HOME=str(self.workdir / "home"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
        )
        command = [str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(self.inventory), str(path)]
        if extra_vars is not None:
            vars_file = self.workdir / (f"vars-{self.count}.json")
            vars_file.write_text(json.dumps(extra_vars))
            command += ["-e", f"@{vars_file}"]
        if rss:
            command += ["-e", f"ansible_python_interpreter={self.rss_python}"]
        worker_peaks = []
        started = time.perf_counter()
        with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
            if self.on_start is not None:
                self.on_start(process)
            if rss:  # an in-process task's memory is its worker's: sampled, as it has no process of its own
                WorkerSampler(process, worker_peaks, field="VmHWM", interval=0.02).start()
            stdout, stderr = process.communicate(timeout=1800)
        done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        seconds = time.perf_counter() - started
        recorded = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
        failed = [r for r in recorded if r["status"] == "failed"]
        if done.returncode != 0 or failed:
            raise RuntimeError(
                f"playbook failed (rc {done.returncode}): {json.dumps(failed[:1])[:2000]}\n{(done.stdout + done.stderr)[-3000:]}"
            )
        peak = (
            max(int(v) for v in rss_file.read_text().split()) if rss_file.exists() else max(worker_peaks, default=None)
        )
        return seconds, recorded, peak

    # --- scenarios -----------------------------------------------------------------------------------------

    def reps_for(self, first_seconds):
        if self.quick or first_seconds > 30:
            return 1
        return 2 if first_seconds > 10 else self.reps

    def measure(
        self,
        group,
        scenario,
        emulator,
        setup,
        tasks,
        extra_vars=None,
        rss=False,
        base_url=None,
        reps=None,
        baseline=None,
        **extra,
    ):
        """Run setup() then the play, several times; add one Row with the figures."""
        runs = []
        target = reps
        while target is None or len(runs) < target:
            setup()
            emulator.clear_log()
            seconds, results, peak = self.playbook(emulator, tasks, extra_vars, rss=rss, base_url=base_url)
            entries = emulator.requests_log()
            runs.append(
                {
                    "seconds": seconds,
                    "requests": len(entries),
                    "rate_limited": sum(1 for e in entries if e["status"] == 429),
                    "peak_rss_kib": peak,
                    "results": results,
                }
            )
            if target is None:
                target = self.reps_for(seconds)
        row = self._row(group, scenario, [r["seconds"] for r in runs], runs[-1]["requests"], baseline, **extra)
        row["rate_limited"] = sum(r["rate_limited"] for r in runs)
        if rss:
            row["peak_rss_mib"] = round(max(r["peak_rss_kib"] for r in runs) / 1024.0, 1)
        stats = [r["results"][-1]["result"].get("stats") for r in runs if r["results"]]
        if stats and stats[0]:
            row["module_seconds"] = round(statistics.median(s["seconds"] for s in stats), 3)
            row["connections"] = stats[-1]["connections"]
        log("  {:<58} median {:7.2f} s  requests {:5d}".format(scenario, row["median"], row["requests"]))
        return row

    def _row(self, group, scenario, samples, requests, baseline=None, marginal=True, **extra):
        row = Row(
            group=group,
            scenario=scenario,
            runs=len(samples),
            median=round(statistics.median(samples), 3),
            min=round(min(samples), 3),
            max=round(max(samples), 3),
            requests=requests,
            baseline=baseline,
        )
        if marginal and self.empty_seconds is not None:
            row["marginal"] = round(row["median"] - self.empty_seconds, 3)
        row.update(extra)
        self.rows.append(row)
        return row

    def find(self, scenario):
        return next((row for row in self.rows if row["scenario"] == scenario), None)

    def resolve_ratios(self):
        for row in self.rows:
            base = self.find(row["baseline"]) if row.get("baseline") else None
            if row.get("ideal_seconds"):
                row["ratio"] = round(row.get("module_seconds", row["median"]) / row["ideal_seconds"], 3)
                continue
            if base is None:
                continue
            key = "per_request_ms" if "per_request_ms" in row else ("marginal" if "marginal" in row else "median")
            if base.get(key):
                row["ratio"] = round(row[key] / base[key], 3)


# --- playbook fragments -------------------------------------------------------------------------------------

PATHS = ("in-process", "module")


def share_task(loop=False, path="in-process"):
    """One share task (or a loop of them) on the given path: in the controller's worker (the default) or as a module."""
    args = {"name": "{{ item.name }}", "recipients": "{{ item.recipients }}", "resources": "{{ item.resources }}"}
    task = {
        "name": "share",
        "edgeops.cloudflare.share": args,
        "vars": {"edgeops_cloudflare_in_process": path == "in-process"},
    }
    if loop:
        task["loop"] = "{{ bench_shares }}"
    else:
        task["vars"]["item"] = "{{ bench_shares[0] }}"
    return [task]


def uri_tasks(loop=False):
    """What users write without the collection: GET the shares, POST the missing one(s)."""
    headers = {"Authorization": "Bearer {{ lookup('env', 'CLOUDFLARE_API_TOKEN') }}"}
    base = "{{ lookup('env', 'CLOUDFLARE_BASE_URL') }}/accounts/{{ lookup('env', 'CLOUDFLARE_ACCOUNT_ID') }}/shares"
    body = {
        "name": "{{ item.name }}",
        "recipients": [{"recipient_account_id": "{{ item.recipients[0].account_id }}"}],
        "resources": "{{ item.resources }}",
    }
    post = {
        "name": "create share",
        "ansible.builtin.uri": {
            "url": base,
            "method": "POST",
            "headers": headers,
            "body_format": "json",
            "status_code": [200, 201],
            "body": body,
        },
        "when": "item.name not in (existing.json.result | map(attribute='name') | list)",
    }
    if loop:
        post["loop"] = "{{ bench_shares }}"
    else:
        post["vars"] = {"item": "{{ bench_shares[0] }}"}
    get = {
        "name": "list shares",
        "ansible.builtin.uri": {"url": base + "?kind=sent&status=active", "headers": headers, "return_content": True},
        "register": "existing",
    }
    return [get, post]


def debug_loop():
    """A loop of ansible.builtin.debug over the same items, templating the same values as the share task: what
    Ansible itself costs per loop item (an action plugin, no request), the floor of any loop of tasks."""
    message = ["{{ item.name }}", "{{ item.recipients }}", "{{ item.resources }}"]
    return [{"name": "debug", "ansible.builtin.debug": {"msg": message}, "loop": "{{ bench_shares }}"}]


def bulk_task(**args):
    task_args = {"shares": "{{ bench_shares }}"}
    task_args.update(args)
    return [{"name": "shares", "edgeops.cloudflare.shares": task_args}]


# --- the scenarios -------------------------------------------------------------------------------------------


def scenario_baseline(bench, emulator):
    log("empty playbook (start-up cost, subtracted to get marginal times)")
    row = bench.measure(
        "start-up",
        "empty playbook",
        emulator,
        emulator.reset,
        [{"name": "nothing", "ansible.builtin.meta": "noop"}],
        reps=max(bench.reps, 5),
        marginal=False,
    )
    bench.empty_seconds = row["median"]


def scenario_single(bench, emulator):
    """Interleaved (A B C D E, A B C D E, ...) so that drifting machine load hits every variant alike."""
    log("one share: share task vs uri GET + when-guarded uri POST (interleaved runs)")
    shares = {"bench_shares": [spec(1)]}

    def empty():
        emulator.reset()

    def existing():
        emulator.reset()
        seed(emulator, 1, start=1)

    variants = [
        ("empty playbook (interleaved)", empty, [{"name": "nothing", "ansible.builtin.meta": "noop"}], None),
        ("uri GET + POST: create", empty, uri_tasks(), None),
        ("uri GET + POST: no-op", existing, uri_tasks(), None),
    ]
    for path in PATHS:
        variants += [
            (f"share ({path}): create", empty, share_task(path=path), "uri GET + POST: create"),
            (f"share ({path}): no-op", existing, share_task(path=path), "uri GET + POST: no-op"),
        ]
    samples = {variant[0]: [] for variant in variants}
    requests = {}
    for dummy in range(1 if bench.quick else 7):
        for name, setup, tasks, baseline in variants:
            setup()
            emulator.clear_log()
            samples[name].append(bench.playbook(emulator, tasks, shares)[0])
            requests[name] = len(emulator.requests_log())
    saved, bench.empty_seconds = bench.empty_seconds, statistics.median(samples[variants[0][0]])
    for name, setup, tasks, baseline in variants:
        row = bench._row("single", name, samples[name], requests[name], baseline, marginal=name != variants[0][0])
        log("  {:<58} median {:7.2f} s  requests {:5d}".format(name, row["median"], row["requests"]))
    bench.empty_seconds = saved


def scenario_loops(bench, emulator):
    """Loops of share tasks on both paths, against the uri recipe and one shares task for the same shares."""
    sizes = (5,) if bench.quick else (20, 100)
    for count in sizes:
        shares = {"bench_shares": [spec(n) for n in range(count)]}
        log(f"loop of {count}: share (both paths) vs uri vs one shares task")

        def empty():
            emulator.reset()

        def existing(count=count):
            emulator.reset()
            seed(emulator, count)

        for op, setup in (("create", empty), ("no-op", existing)):
            uri = f"loop {count}: uri {op}"
            bench.measure("loop", uri, emulator, setup, uri_tasks(loop=True), shares)
            for path in PATHS:
                bench.measure(
                    "loop",
                    f"loop {count}: share ({path}) {op} @0ms",
                    emulator,
                    setup,
                    share_task(loop=True, path=path),
                    shares,
                    baseline=uri,
                )
            bench.measure(
                "loop",
                f"one shares task, {count} shares, c=1: {op}",
                emulator,
                setup,
                bulk_task(concurrency=1),
                shares,
                baseline=uri,
            )
        bench.measure(
            "loop",
            f"loop {count}: debug, same items (Ansible alone)",
            emulator,
            existing,
            debug_loop(),
            shares,
            baseline=f"one shares task, {count} shares, c=1: no-op",
        )
    count = sizes[-1]
    shares = {"bench_shares": [spec(n) for n in range(count)]}

    def empty_slow():
        emulator.reset()
        emulator.configure(latency_ms=50)

    for path in PATHS:
        bench.measure(
            "loop",
            f"loop {count}: share ({path}) create @50ms",
            emulator,
            empty_slow,
            share_task(loop=True, path=path),
            shares,
            baseline=f"loop {count}: uri create",
        )


def scenario_worker_memory(bench, emulator):
    """The controller's worker during a long loop of in-process share tasks: its memory at the start and at the end."""
    count = 100 if bench.quick else 1000
    log(f"worker memory: a loop of {count} in-process share no-ops")
    shares = {"bench_shares": [spec(n) for n in range(count)]}
    emulator.reset()
    seed(emulator, count)
    samples = []
    bench.on_start = lambda process: WorkerSampler(process, samples).start()
    try:
        seconds, _results, _peak = bench.playbook(emulator, share_task(loop=True), shares)
    finally:
        bench.on_start = None
    first, last = samples[0] if samples else 0, samples[-1] if samples else 0
    row = bench._row(
        "worker", f"loop {count}: in-process worker RSS, start -> end", [seconds], len(emulator.requests_log())
    )
    row.update(rss_start_mib=round(first / 1024.0, 1), rss_end_mib=round(last / 1024.0, 1), rss_samples=len(samples))
    log(
        "  worker RSS {:.1f} MiB -> {:.1f} MiB ({} samples)".format(
            row["rss_start_mib"], row["rss_end_mib"], len(samples)
        )
    )


class WorkerSampler(threading.Thread):
    """Samples the memory (KiB: VmRSS, or the peak so far, VmHWM) of ansible-playbook's worker (its child that
    runs the task) until the play ends."""

    def __init__(self, process, samples, field="VmRSS", interval=0.2):
        super().__init__(daemon=True)
        self.process, self.samples, self.field, self.interval = process, samples, field, interval

    def run(self):
        deadline = time.monotonic() + 1800
        while self.process.poll() is None and time.monotonic() < deadline:
            kib = [value for value in (memory_kib(pid, self.field) for pid in children(self.process.pid)) if value]
            if kib:
                self.samples.append(max(kib))
            time.sleep(self.interval)


def children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory_kib(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def scenario_bulk(bench, emulator):
    sizes = (20, 100) if bench.quick else (100, 1000)
    concurrencies = (1, 4, 16) if bench.quick else (1, 4, 8, 16)
    for count in sizes:
        shares = {"bench_shares": [spec(n) for n in range(count)]}
        for latency in (0, 50):
            log(f"shares module: {count} shares @{latency} ms")
            for concurrency in concurrencies:

                def empty(latency=latency):
                    emulator.reset()
                    emulator.configure(latency_ms=latency, rate_limit=CLOUDFLARE_LIMIT)

                def existing(latency=latency, count=count):
                    emulator.reset()
                    seed(emulator, count)
                    emulator.configure(latency_ms=latency, rate_limit=CLOUDFLARE_LIMIT)

                for operation, setup in (("create", empty), ("no-op", existing)):
                    name = f"shares {count} {operation} @{latency}ms c={concurrency}"
                    if count == sizes[-1] and latency == 50 and concurrency == 1 and operation == "no-op":
                        continue  # the same cost as create here, and the slowest run of all
                    if count == sizes[0]:
                        baseline = (
                            f"loop {count}: share (module) create @{latency}ms" if operation == "create" else None
                        )
                    else:
                        baseline = f"shares {count} {operation} @{latency}ms c=1"
                    reps = 1 if (count == sizes[-1] and latency == 50 and concurrency <= 4) else None
                    row = bench.measure(
                        "bulk",
                        name,
                        emulator,
                        setup,
                        bulk_task(concurrency=concurrency),
                        shares,
                        baseline=baseline,
                        reps=reps,
                        concurrency=concurrency,
                        latency_ms=latency,
                    )
                    if latency:
                        row["ideal_seconds"] = round(row["requests"] * latency / 1000.0 / concurrency, 3)
                        row["baseline"] = f"ideal: requests x {latency} ms / concurrency"


def scenario_lookup(bench, emulator):
    sizes = (10, 100, 1000) if bench.quick else (10, 100, 1000, 10000)
    target = {"bench_shares": [spec(0, prefix="target")]}
    emulator.reset()
    emulator.seed([spec(0, prefix="target")])
    seeded = 1
    for size in sizes:
        log(f"lookup by name in an account of {size} shares")
        seed(emulator, size - seeded, start=seeded)
        seeded = size
        for path in PATHS:
            name = f"share ({path}) no-op by name, {size} shares"
            bench.measure(
                "lookup",
                name,
                emulator,
                lambda: None,
                share_task(path=path),
                target,
                rss=True,
                baseline=name.replace(str(size), str(sizes[0])),
                account_shares=size,
                path=path,
            )
    bench.measure(
        "lookup",
        f"shares (1 item) no-op, {sizes[-1]} shares",
        emulator,
        lambda: None,
        bulk_task(),
        target,
        rss=True,
        account_shares=sizes[-1],
        path="in-process",
        baseline=f"share (in-process) no-op by name, {sizes[-1]} shares",
    )


def seeding(emulator, shares):
    """A setup function: reset the emulator, then seed these shares."""

    def setup():
        emulator.reset()
        emulator.seed(shares)

    return setup


def scenario_recipients(bench, emulator):
    for count in (1, 500):
        accounts = [f"{0xACC00000 + n:032x}" for n in range(count)]
        share = {
            "name": "many-recipients",
            "recipients": [{"account_id": a} for a in accounts],
            "resources": [{"resource_type": "custom-ruleset", "resource_id": f"{7:032x}"}],
        }
        changed = dict(share, recipients=share["recipients"][:-1] + [{"account_id": f"{0xBEEF:032x}"}])
        log(f"one share with {count} recipient(s)")

        def empty():
            emulator.reset()

        existing = seeding(emulator, [share])

        first = f"{count} recipient(s): create"
        bench.measure(
            "recipients",
            first,
            emulator,
            empty,
            share_task(),
            {"bench_shares": [share]},
            baseline=None if count == 1 else "1 recipient(s): create",
        )
        bench.measure(
            "recipients",
            f"{count} recipient(s): no-op",
            emulator,
            existing,
            share_task(),
            {"bench_shares": [share]},
            baseline=None if count == 1 else "1 recipient(s): no-op",
        )
        bench.measure(
            "recipients",
            f"{count} recipient(s): replace one",
            emulator,
            existing,
            share_task(),
            {"bench_shares": [changed]},
            baseline=None if count == 1 else "1 recipient(s): replace one",
        )


def scenario_https(bench, tls_emulator, ca_file, delay_ms=20):
    """Per-request cost over HTTPS with a delay per new connection: raw http.client vs our transports."""
    from ansible_collections.edgeops.cloudflare.plugins.module_utils._bulk import BudgetedTransport, RequestBudget
    from ansible_collections.edgeops.cloudflare.plugins.module_utils._client import CloudflareClient, open_url_transport
    from ansible_collections.edgeops.cloudflare.plugins.module_utils._transport import KeepAliveTransport

    count = 30 if bench.quick else 200
    tls_emulator.reset()
    share_id = tls_emulator.seed([spec(1)])[0]["id"]
    with DelayProxy(("127.0.0.1", tls_emulator.port), delay_seconds=delay_ms / 1000.0) as proxy:
        base = f"https://127.0.0.1:{proxy.port}/client/v4"
        path = f"/accounts/{MAIN_ACCOUNT}/shares/{share_id}"
        auth = {"Authorization": "Bearer " + TOKEN}
        log(f"HTTPS, {delay_ms} ms per new connection: {count} GETs per transport")

        def raw():
            context = ssl.create_default_context(cafile=ca_file)
            connection = http.client.HTTPSConnection("127.0.0.1", proxy.port, context=context, timeout=30)
            for dummy in range(count):
                connection.request("GET", "/client/v4" + path, headers=auth)
                response = connection.getresponse()
                response.read()
                assert response.status == 200
            connection.close()
            return count

        def client_run(transport, n):
            client = CloudflareClient(base, auth, ca_path=ca_file, transport=transport)
            for dummy in range(n):
                client.get(path)
            return n

        def bulk_path():
            keep_alive = KeepAliveTransport()
            try:
                return client_run(BudgetedTransport(keep_alive, RequestBudget()), count)
            finally:
                keep_alive.close()

        def open_url_path():
            return client_run(open_url_transport, count // 4)

        variants = [
            ("https: raw http.client, one reused connection", raw, None),
            (
                "https: shares path (client + budget + keep-alive)",
                bulk_path,
                "https: raw http.client, one reused connection",
            ),
            (
                "https: open_url path (client + open_url)",
                open_url_path,
                "https: raw http.client, one reused connection",
            ),
        ]
        for name, function, baseline in variants:
            samples = []
            for dummy in range(bench.reps):
                tls_emulator.clear_log()
                before = proxy.connections
                started = time.perf_counter()
                sent = function()
                samples.append((time.perf_counter() - started) / sent * 1000.0)
                connections = proxy.connections - before
            row = bench._row(
                "https",
                name,
                samples,
                len(tls_emulator.requests_log()),
                baseline,
                marginal=False,
                per_request_ms=round(statistics.median(samples), 2),
                connections=connections,
            )
            row["unit"] = "ms per request"
            log("  {:<58} {:7.2f} ms/request  connections {}".format(name, row["per_request_ms"], connections))

        # End to end: the shares module over HTTPS through the proxy, keep-alive on and off.
        count = 20 if bench.quick else 100
        shares = {"bench_shares": [spec(n) for n in range(count)]}

        def existing():
            tls_emulator.reset()
            seed(tls_emulator, count)

        for keep_alive in (False, True):
            bench.measure(
                "https",
                f"https: shares {count} no-op c=4 keep_alive={keep_alive}",
                tls_emulator,
                existing,
                bulk_task(concurrency=4, keep_alive=keep_alive, ca_path=ca_file),
                shares,
                base_url=base,
                baseline=None if not keep_alive else f"https: shares {count} no-op c=4 keep_alive=False",
            )


# --- report ---------------------------------------------------------------------------------------------------


def goals(bench):
    """The issue's goals, checked against this run's figures."""
    found = []

    def add(goal, measured, target, met):
        found.append({"goal": goal, "measured": measured, "target": target, "met": bool(met)})

    for op, target in (("create", 0.35), ("no-op", 0.5)):
        row = bench.find(f"share (in-process): {op}")
        if row and "ratio" in row:
            add(
                f"one share task ({op}), in process, vs the uri recipe, marginal time",
                "{:.2f}x".format(row["ratio"]),
                f"<= {target}x",
                row["ratio"] <= target,
            )
    loops = [r for r in bench.rows if r["group"] == "loop" and " create @0ms" in r["scenario"]]
    largest = max((int(r["scenario"].split()[1].rstrip(":")) for r in loops), default=None)
    inproc, module = (
        bench.find(f"loop {largest}: share (in-process) no-op @0ms"),
        bench.find(f"loop {largest}: share (module) no-op @0ms"),
    )
    bulk_noop = bench.find(f"one shares task, {largest} shares, c=1: no-op")
    if inproc and module and bulk_noop:
        add(
            f"loop of {largest} share no-ops: in process vs the module path (marginal time)",
            "{:.1f}x faster".format(module["marginal"] / inproc["marginal"]),
            ">= 15x",
            module["marginal"] >= 15 * inproc["marginal"],
        )
        floor = bench.find(f"loop {largest}: debug, same items (Ansible alone)")
        add(
            f"loop of {largest} share no-ops in process vs one shares task, c=1 (marginal time)",
            "{:.2f}x{}".format(
                inproc["marginal"] / bulk_noop["marginal"],
                f" (a loop of debug alone: {floor['marginal'] / bulk_noop['marginal']:.2f}x)" if floor else "",
            ),
            "<= 2x",
            inproc["marginal"] <= 2 * bulk_noop["marginal"],
        )
    pairs = [
        (row, bench.find(row["scenario"].replace("(in-process)", "(module)")))
        for row in bench.rows
        if "(in-process)" in row["scenario"]
    ]
    slower = [
        row["scenario"]
        for row, other in pairs
        if other and row.get("marginal", row["median"]) > other.get("marginal", other["median"])
    ]
    if pairs:
        add(
            "no in-process row slower than its module-path row (same run)",
            "{} of {} slower{}".format(len(slower), len(pairs), ": " + ", ".join(slower) if slower else ""),
            "0",
            not slower,
        )
    worker = next((r for r in bench.rows if r["group"] == "worker"), None)
    if worker:
        growth = worker["rss_end_mib"] - worker["rss_start_mib"]
        add(
            "{}".format(worker["scenario"]),
            "{:.1f} -> {:.1f} MiB (+{:.1f})".format(worker["rss_start_mib"], worker["rss_end_mib"], growth),
            "<= +50 MiB",
            worker["rss_samples"] > 1 and growth <= 50,
        )
    for latency in (0, 50):
        loop = bench.find(f"loop {largest}: share (module) create @{latency}ms")
        bulk = [r for r in bench.rows if r["scenario"].startswith(f"shares {largest} create @{latency}ms")]
        if loop and bulk:
            best = min(bulk, key=lambda r: r["marginal"])
            speedup = loop["marginal"] / best["marginal"]
            add(
                f"{largest} shares @{latency} ms: one shares task vs a loop of share tasks (marginal time)",
                "{:.1f}x faster (c={})".format(speedup, best["concurrency"]),
                ">= 20x",
                speedup >= 20,
            )
    big = [
        r
        for r in bench.rows
        if r["group"] == "bulk" and r.get("ideal_seconds") and r["scenario"].startswith("shares 1000")
    ]
    for row in big:
        add(
            "{}: in-module time / (requests x 50 ms / concurrency), no 429".format(row["scenario"]),
            "{:.2f}x, {} x 429 (marginal: {:.2f}x)".format(
                row["ratio"], row["rate_limited"], row["marginal"] / row["ideal_seconds"]
            ),
            "<= 1.3x, 0 x 429",
            row["ratio"] <= 1.3 and row["rate_limited"] == 0,
        )
    bulk_https = bench.find("https: shares path (client + budget + keep-alive)")
    if bulk_https and "ratio" in bulk_https:
        add(
            "HTTPS, 20 ms per new connection: shares path per request vs reused raw http.client",
            "{:.2f}x ({:.2f} ms)".format(bulk_https["ratio"], bulk_https["per_request_ms"]),
            "<= 2x",
            bulk_https["ratio"] <= 2,
        )
    memory = [r for r in bench.rows if r["group"] == "lookup" and r.get("account_shares") == 10000]
    for row in memory:
        where = "module process" if row["path"] == "module" else "worker (ansible-core included)"
        add(
            "{}: peak memory of the {}".format(row["scenario"], where),
            "{:.1f} MiB".format(row["peak_rss_mib"]),
            "< 100 MB",
            row["peak_rss_mib"] * 1.048576 < 100,
        )
    return found


def print_table(bench, goal_list):
    columns = ("scenario", "runs", "median", "min", "max", "marginal", "requests", "ratio", "extra")
    print()
    print("{:<58} {:>4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}  {}".format(*columns))
    group = None
    for row in bench.rows:
        if row["group"] != group:
            group = row["group"]
            print("-- {} {}".format(group, "-" * (120 - len(group))))
        extra = []
        if "per_request_ms" in row:
            extra.append("{:.2f} ms/request".format(row["per_request_ms"]))
        if row.get("module_seconds") is not None:
            extra.append("in-module {:.2f} s".format(row["module_seconds"]))
        if row.get("ideal_seconds"):
            extra.append("ideal {:.2f} s".format(row["ideal_seconds"]))
        if row.get("connections") is not None:
            extra.append("{} conn".format(row["connections"]))
        if row.get("peak_rss_mib") is not None:
            extra.append("peak RSS {:.1f} MiB".format(row["peak_rss_mib"]))
        if row.get("rate_limited"):
            extra.append("{} x 429".format(row["rate_limited"]))
        if row.get("baseline") and "ratio" in row:
            extra.append("vs {}".format(row["baseline"]))
        print(
            "{:<58} {:4d} {:8.3f} {:8.3f} {:8.3f} {:>8} {:8d} {:>7}  {}".format(
                row["scenario"][:58],
                row["runs"],
                row["median"],
                row["min"],
                row["max"],
                "{:.3f}".format(row["marginal"]) if "marginal" in row else "-",
                row["requests"],
                "{:.3f}".format(row["ratio"]) if "ratio" in row else "-",
                "; ".join(extra),
            )
        )
    print()
    print(
        "Times in seconds (https per-request rows: the time columns are ms per request). marginal = median - "
        "empty playbook median; ratio = marginal (or per-request, or in-module vs ideal) / baseline, same run."
    )
    print()
    for goal in goal_list:
        status = "met" if goal["met"] else "NOT MET"
        print("[{}] {:<90} {} (target {})".format(status, goal["goal"], goal["measured"], goal["target"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each (a smoke test of the bench)")
    parser.add_argument(
        "--only", nargs="*", default=None, help="groups to run: single loop worker bulk lookup recipients https"
    )
    parser.add_argument("--reps", type=int, default=3, help="runs per fast scenario (slow ones run fewer)")
    parser.add_argument("--json", default=str(ROOT / ".build" / "bench" / "results.json"))
    args = parser.parse_args(argv)
    import trustme

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cf-bench-") as workdir:
        bench = Bench(workdir, quick=args.quick, reps=args.reps)
        ca = trustme.CA()
        cert_file, key_file, ca_file = (Path(workdir) / name for name in ("cert.pem", "key.pem", "ca.pem"))
        server_cert = ca.issue_cert("127.0.0.1", "localhost")
        server_cert.private_key_pem.write_to_path(str(key_file))
        server_cert.cert_chain_pems[0].write_to_path(str(cert_file))
        ca.cert_pem.write_to_path(str(ca_file))
        selected = set(args.only or ("single", "loop", "worker", "bulk", "lookup", "recipients", "https"))
        with Emulator() as emulator:
            scenario_baseline(bench, emulator)
            for name, function in (
                ("single", scenario_single),
                ("loop", scenario_loops),
                ("worker", scenario_worker_memory),
                ("bulk", scenario_bulk),
                ("lookup", scenario_lookup),
                ("recipients", scenario_recipients),
            ):
                if name in selected:
                    function(bench, emulator)
        if "https" in selected:
            with Emulator(tls_cert=cert_file, tls_key=key_file) as tls_emulator:
                tls_emulator.verify = str(ca_file)
                scenario_https(bench, tls_emulator, str(ca_file))
        bench.resolve_ratios()
        goal_list = goals(bench)
        print_table(bench, goal_list)
    report = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "quick": args.quick,
        "rows": bench.rows,
        "goals": goal_list,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.json} ({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
