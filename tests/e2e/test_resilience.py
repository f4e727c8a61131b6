"""The bus under failure (design.md "Bus and scaling"): svc-token down → 503 within the deadline,
back → served again without touching the gateway; a second replica takes a fair share of the
load; a replica killed mid-load costs at most the requests it held.

Needs the local runner's RUN_DIR (pid files, logs): skipped against --base-url. Every test
leaves the system as it found it: the original replicas running (restarted from their exact
command line and environment, logging to the same files, pid files updated), no extra ones."""
import asyncio
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

EXTRA_ID = "svc-token-2"


def process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@dataclass
class Spec:
    """How a replica was started: enough to start it again the same way."""
    name: str           # pid/log file stem, e.g. svc-token-1
    argv: list
    env: dict
    cwd: str

    def with_replica_id(self, rid: str) -> "Spec":
        argv, out, i = self.argv, [], 0
        replaced = False
        while i < len(argv):
            a = argv[i]
            if a == "--replica-id" and i + 1 < len(argv):
                out += [a, rid]
                i += 2
                replaced = True
                continue
            if a.startswith("--replica-id="):
                out.append("--replica-id=" + rid)
                replaced = True
            else:
                out.append(a)
            i += 1
        if not replaced:
            out += ["--replica-id", rid]
        return Spec(rid, out, self.env, self.cwd)


def proc_spec(name: str, pid: int) -> Spec:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    env = {}
    for kv in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if b"=" in kv:
            k, v = kv.split(b"=", 1)
            env[k.decode(errors="surrogateescape")] = v.decode(errors="surrogateescape")
    return Spec(name, [a.decode(errors="surrogateescape") for a in argv], env,
                os.readlink(f"/proc/{pid}/cwd"))


@dataclass
class Replicas:
    run_dir: Path
    originals: list                                  # Specs found at the start
    children: dict = field(default_factory=dict)     # pid -> Popen, for what we started

    def pidfile(self, name) -> Path:
        return self.run_dir / "pids" / f"{name}.pid"

    def logfile(self, name) -> Path:
        return self.run_dir / "logs" / f"{name}.log"

    def pid(self, name):
        p = self.pidfile(name)
        return int(p.read_text().strip()) if p.exists() else None

    def running(self) -> list:
        """Names of svc-token replicas whose pid file names a live process."""
        return sorted(p.stem for p in (self.run_dir / "pids").glob("svc-token-*.pid")
                      if process_alive(int(p.read_text().strip())))

    def start(self, spec: Spec) -> int:
        with open(self.logfile(spec.name), "ab") as log:
            proc = subprocess.Popen(spec.argv, env=spec.env, cwd=spec.cwd, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.children[proc.pid] = proc
        self.pidfile(spec.name).write_text(f"{proc.pid}\n")
        return proc.pid

    def stop(self, name, sig=signal.SIGTERM, timeout=20.0, forget=False):
        pid = self.pid(name)
        if pid is None or not process_alive(pid):
            return
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"tollgate-svc-token" in cmd, f"{name}.pid names something else: {cmd!r}"
        os.kill(pid, sig)
        self.reap(pid, timeout)
        if forget:
            self.pidfile(name).unlink(missing_ok=True)

    def reap(self, pid, timeout=20.0):
        deadline = time.monotonic() + timeout
        proc = self.children.pop(pid, None)
        if proc is not None:
            proc.wait(timeout=timeout)
            return
        while process_alive(pid):
            assert time.monotonic() < deadline, f"pid {pid} did not exit"
            time.sleep(0.05)

    def log_offset(self, name) -> int:
        f = self.logfile(name)
        return f.stat().st_size if f.exists() else 0

    def log_since(self, name, offset) -> str:
        f = self.logfile(name)
        if not f.exists():
            return ""
        with open(f, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")

    def wait_serving(self, name, offset, timeout=30.0):
        deadline = time.monotonic() + timeout
        while "serving" not in self.log_since(name, offset):
            pid = self.pid(name)
            assert pid and process_alive(pid), \
                f"{name} exited at start:\n{self.log_since(name, offset)[-2000:]}"
            assert time.monotonic() < deadline, f"{name} not serving after {timeout}s"
            time.sleep(0.05)

    def served(self, name, offset) -> int:
        found = re.findall(r"stopped; served=(\d+)", self.log_since(name, offset))
        assert found, f"no 'stopped; served=N' line from {name}:\n" \
                      f"{self.log_since(name, offset)[-2000:]}"
        return int(found[-1])

    def restore(self):
        """Back to the original set: each original running (restarted if not), nothing else."""
        for name in self.running():
            if name not in {s.name for s in self.originals}:
                self.stop(name, forget=True)
        for p in (self.run_dir / "pids").glob("svc-token-*.pid"):
            if p.stem not in {s.name for s in self.originals} and not process_alive(
                    int(p.read_text().strip())):
                p.unlink()
        for spec in self.originals:
            pid = self.pid(spec.name)
            if pid is None or not process_alive(pid):
                offset = self.log_offset(spec.name)
                self.start(spec)
                self.wait_serving(spec.name, offset)


def wait_token(target, timeout=30.0) -> float:
    """Polls until a token request succeeds; returns the seconds it took."""
    t0 = time.monotonic()
    form = target.demo_form()
    last = None
    with target.client() as http:
        while time.monotonic() - t0 < timeout:
            try:
                last = http.post("/oauth/token", data=form, timeout=10)
                if last.status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError as e:
                last = e
            time.sleep(0.1)
    pytest.fail(f"no token within {timeout}s; last: {getattr(last, 'text', last)}")


def gateway_deadline_s(run_dir: Path) -> float:
    pid = int((run_dir / "pids" / "gateway.pid").read_text().strip())
    spec = proc_spec("gateway", pid)
    ms = spec.env.get("TG_DEADLINE_MS") or "5000"
    for i, a in enumerate(spec.argv):
        if a == "--deadline-ms" and i + 1 < len(spec.argv):
            ms = spec.argv[i + 1]
        elif a.startswith("--deadline-ms="):
            ms = a.split("=", 1)[1]
    return int(ms) / 1000.0


@pytest.fixture(scope="module")
def replicas(target):
    if target.run_dir is None:
        pytest.skip("needs RUN_DIR from the local runner (not available with --base-url)")
    run_dir = target.run_dir
    names = sorted(p.stem for p in (run_dir / "pids").glob("svc-token-*.pid"))
    specs = []
    for name in names:
        pid = int((run_dir / "pids" / f"{name}.pid").read_text().strip())
        assert process_alive(pid), f"{name} is not running before the resilience tests"
        specs.append(proc_spec(name, pid))
    assert specs, "no svc-token replica pid files"
    assert all("tollgate-svc-token" in s.argv[0] for s in specs), [s.argv[0] for s in specs]
    assert EXTRA_ID not in names or len(names) > 1
    r = Replicas(run_dir, specs)
    yield r
    r.restore()
    wait_token(target)


@pytest.fixture
def gateway_pid(target):
    pid = int((target.run_dir / "pids" / "gateway.pid").read_text().strip())
    yield pid
    assert process_alive(pid), "the gateway died"
    assert int((target.run_dir / "pids" / "gateway.pid").read_text().strip()) == pid


def extra_spec(replicas: Replicas) -> Spec:
    """A replica beyond the originals: the first original's command line, a new replica id."""
    taken = {s.name for s in replicas.originals}
    n = 2
    while f"svc-token-{n}" in taken:
        n += 1
    return replicas.originals[0].with_replica_id(f"svc-token-{n}")


async def load(target, workers: int, per_worker: int, on_done=None, connections=1):
    """workers coroutines each sending per_worker token requests over HTTP/2 (multiplexed on
    `connections` connections). Returns a list of status codes or exception names."""
    results = []
    form = target.demo_form()
    clients = [httpx.AsyncClient(base_url=target.base_url, http2=True, verify=target.ca_cert,
                                 timeout=30) for _ in range(connections)]

    async def worker(i):
        c = clients[i % connections]
        for _ in range(per_worker):
            try:
                r = await c.post("/oauth/token", data=form)
                if r.status_code == 503 and not r.text.startswith('{"error":"temporarily_unavailable"'):
                    results.append("503-not-auth0-shape")
                else:
                    results.append(r.status_code)
                if r.status_code == 200:
                    assert r.http_version == "HTTP/2"
            except httpx.HTTPError as e:
                results.append(type(e).__name__)
            if on_done is not None:
                on_done(len(results))

    try:
        await asyncio.gather(*(worker(i) for i in range(workers)))
    finally:
        for c in clients:
            await c.aclose()
    return results


# ---- the tests ---------------------------------------------------------------------------------

def test_service_down_gives_503_then_recovers(target, replicas, gateway_pid):
    deadline = gateway_deadline_s(target.run_dir)
    for spec in replicas.originals:
        replicas.stop(spec.name)
    assert replicas.running() == []

    with target.client() as http:
        t0 = time.monotonic()
        r = http.post("/oauth/token", data=target.demo_form(), timeout=deadline + 10)
        elapsed = time.monotonic() - t0
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].split(";")[0].strip() == "application/json"
    assert r.json() == {"error": "temporarily_unavailable",
                        "error_description": "The service is temporarily unavailable. "
                                             "Please try again later."}
    assert elapsed <= deadline + 1.0, f"503 after {elapsed:.2f}s, deadline {deadline}s"
    with target.client(http2=False) as h1:  # the gateway itself still answers what it can
        nf = h1.get("/no-such-path")
    assert nf.status_code == 404

    for spec in replicas.originals:
        offset = replicas.log_offset(spec.name)
        replicas.start(spec)
        replicas.wait_serving(spec.name, offset)
    took = wait_token(target, timeout=20)
    assert took < 10, f"the restarted replica took {took:.1f}s to be used"
    with target.client() as http:
        for _ in range(5):
            assert http.post("/oauth/token", data=target.demo_form()).status_code == 200


def test_two_replicas_share_the_load(target, replicas, gateway_pid):
    extra = extra_spec(replicas)
    specs = replicas.originals + [extra]
    for spec in replicas.originals:
        replicas.stop(spec.name)
    offsets = {s.name: replicas.log_offset(s.name) for s in specs}
    try:
        for spec in specs:
            replicas.start(spec)
        for spec in specs:
            replicas.wait_serving(spec.name, offsets[spec.name])
        time.sleep(0.5)  # the replicas' dialers connect asynchronously
        wait_token(target)

        results = asyncio.run(load(target, workers=16, per_worker=25, connections=2))
        assert len(results) == 400
        assert results.count(200) == 400, {x: results.count(x) for x in set(results)}
    finally:
        for spec in specs:
            replicas.stop(spec.name, forget=(spec is extra))
    served = {s.name: replicas.served(s.name, offsets[s.name]) for s in specs}
    total = sum(served.values())
    assert total >= 400, served
    for name, n in served.items():
        assert n > 0.2 * total, f"{name} served {n} of {total}: {served}"
    replicas.restore()
    wait_token(target)


def test_replica_killed_during_load(target, replicas, gateway_pid):
    extra = extra_spec(replicas)
    offset = replicas.log_offset(extra.name)
    victim = replicas.start(extra)
    workers, per_worker = 8, 100
    killed_at = []
    try:
        replicas.wait_serving(extra.name, offset)
        time.sleep(0.5)
        wait_token(target)

        def on_done(n):
            if n >= 250 and not killed_at:
                os.kill(victim, signal.SIGKILL)
                killed_at.append(n)

        t0 = time.monotonic()
        results = asyncio.run(load(target, workers, per_worker, on_done=on_done))
        elapsed = time.monotonic() - t0
    finally:
        if process_alive(victim):
            os.kill(victim, signal.SIGKILL)
        replicas.reap(victim)
        replicas.pidfile(extra.name).unlink(missing_ok=True)
    print("kill after", killed_at, "results", {x: results.count(x) for x in set(results)}, f"{elapsed:.2f}s")
    assert killed_at, "the load finished before the kill"
    assert len(results) == workers * per_worker
    counts = {x: results.count(x) for x in set(results)}
    assert set(counts) <= {200, 503}, counts
    assert counts.get(503, 0) <= workers, counts
    assert elapsed < 45, f"load took {elapsed:.1f}s"
    # the survivor carries on alone
    with target.client() as http:
        for _ in range(10):
            assert http.post("/oauth/token", data=target.demo_form()).status_code == 200
    assert replicas.running() == sorted(s.name for s in replicas.originals)
