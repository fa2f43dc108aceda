"""Run the on-disk store in a child `oxigraph serve` process that the hub talks to over HTTP.

The child owns the store folder and stops any query at the time limit
(`--timeout-s`) while it keeps answering others; the hub then uses the same
HTTP code path as with an external SPARQL server. A small file next to the store
(`<store>.server.json`) tells other `hub` commands where the running server is.

Supervision: one long-lived thread per server (`hub-store-supervisor`) checks the
child every second and starts it again, on the same port and folder, when it has
died, with a growing pause when it keeps dying. Every start after the first happens
on that thread, because Linux sends the parent-death signal when the *thread* that
started a child ends (a request's worker thread would take the child down with it).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import requests

from hub.errors import StoreError
from hub.store.pacing import QueryWindow, thread_allowance

log = logging.getLogger("hub.store")
# Opening a big store replays its write-ahead log (51 s for a 770 MB WAL was seen), so the
# wait follows the child: it goes on while the child works (CPU or disk) and gives up only
# when the child made no progress at all for HANG_S seconds, or died.
HANG_S = 120.0
PROGRESS_EVERY_S = 5.0
# Supervision: how often the child is checked, and the pause before starting it again
# when it keeps dying (doubling from BACKOFF_FIRST_S up to BACKOFF_MAX_S; a child that
# stayed up for CALM_S starts the count over, with no pause).
CHECK_EVERY_S = 1.0
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
CALM_S = 60.0
WINDOW_SLACK_S = 1.0
"""A timeout thread ends when its sleep does, a moment after the window: count it a
second longer."""


LOCK_WAIT_S = 30.0


class _StoreLocked(StoreError):
    """The child could not open the store: another process holds its lock."""


def _activity(pid: int) -> tuple[int, ...] | None:
    """CPU ticks and bytes read/written so far by a process (Linux), or None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        return ticks, int(io.get("rchar", 0)), int(io.get("wchar", 0))
    except (OSError, ValueError, IndexError):
        return None


def oxigraph_binary() -> str:
    """The `oxigraph` command from the PyPI package `oxigraph`, next to this Python first."""
    local = Path(sys.executable).parent / "oxigraph"
    if local.exists():
        return str(local)
    found = shutil.which("oxigraph")
    if not found:
        raise StoreError(
            "the `oxigraph` server command is not installed; `pip install oxigraph` "
            '(a dependency of marittimo-hub), or set [store] backend = "embedded"'
        )
    return found


def _die_with_parent(parent: int) -> Callable[[], None]:
    """For the child, before exec: ask Linux to SIGTERM it when the hub dies (even by kill -9).

    If the hub died between the fork and this call, the signal would never come: the
    child then exits at once instead of living on as an orphan holding the store's lock.
    """

    def arm() -> None:
        if sys.platform.startswith("linux"):
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:
                os._exit(1)

    return arm


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_file(location: Path) -> Path:
    return location.with_name(location.name + ".server.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _terminate(pid: int, wait_s: float = 30.0) -> None:
    """SIGTERM a process (it flushes), SIGKILL it if it is still there after `wait_s`."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def running_server(location: Path) -> dict | None:
    """The record of a live server on this store, or None (stale records are removed)."""
    path = server_file(location)
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        if "hub_pid" in info and not _alive(int(info["hub_pid"])):
            # An orphan: its hub was killed and it lives on, holding the store's lock.
            log.warning("store: stopping the server (pid %s) of a hub that died", info["pid"])
            _terminate(int(info["pid"]))
            raise OSError("orphaned store server stopped")
        requests.get(info["url"] + "/", timeout=2)
        return info
    except (OSError, ValueError, KeyError, requests.RequestException):
        path.unlink(missing_ok=True)
        return None


class OxigraphServer:
    """A child `oxigraph serve` on a free loopback port, stopped with the hub."""

    def __init__(
        self,
        location: Path,
        *,
        timeout_s: float,
        owner: str = "hub",
        query_threads: int | None = None,
    ) -> None:
        self.location = location
        self.timeout_s = timeout_s
        self.queries = QueryWindow(
            query_threads or thread_allowance(), self.limit_s + WINDOW_SLACK_S
        )
        """Paces queries so the server's timeout threads stay within the kernel's limits."""
        location.mkdir(parents=True, exist_ok=True)
        existing = running_server(location)
        if existing is not None:
            raise StoreError(
                f"the store at {location} is already served by {existing.get('owner', 'a hub')} "
                f"(pid {existing['pid']}, {existing['url']}); stop it first, or use that server"
            )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.owner = owner
        self.log = location.with_name(location.name + ".server.log")
        self.restarts = 0
        """Times the child was started again (any reason); `restart_reasons` splits them."""
        self.restart_reasons: Counter[str] = Counter()
        self._lock = threading.Lock()  # one start, restart or stop at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._done = threading.Condition()
        self._rounds = self._checks = 0  # supervisor rounds begun / completed
        self._kill_requested = False
        self._backoff = 0.0
        self._last_restart = float("-inf")
        self._start()
        self._supervisor = threading.Thread(
            target=self._supervise, name="hub-store-supervisor", daemon=True
        )
        self._supervisor.start()
        atexit.register(self.stop)

    def _start(self) -> None:
        command = [
            oxigraph_binary(),
            "serve",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout-s",
            str(self.limit_s),
        ]
        waited_for_lock = time.monotonic()
        while True:
            offset = self.log.stat().st_size if self.log.exists() else 0
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C reaches the hub, which stops it cleanly
                    preexec_fn=_die_with_parent(os.getpid()),
                )
            try:
                self._wait_ready(offset)
                break
            except _StoreLocked:
                # The previous owner of the store (a killed hub's child, which gets SIGTERM
                # when its parent dies) may still be flushing: wait for it to let go.
                if time.monotonic() - waited_for_lock > LOCK_WAIT_S:
                    raise
                time.sleep(0.5)
        server_file(self.location).write_text(
            json.dumps(
                {
                    "pid": self.process.pid,
                    "url": self.url,
                    "owner": self.owner,
                    "hub_pid": os.getpid(),
                }
            ),
            encoding="utf-8",
        )

    @property
    def limit_s(self) -> int:
        """The time limit given to the server (`--timeout-s` takes whole seconds)."""
        return max(1, int(self.timeout_s))

    def restart(self) -> None:
        """Kill the server (and the queries it could not stop) and start it again, same port.

        Done by the supervisor thread; this waits until the new child answers (or gives up).
        """
        self._kill_requested = True
        self._await_check(HANG_S + 30)

    def ensure_alive(self, wait_s: float = 30.0) -> bool:
        """True if the child is running, after starting it again if it had died.

        Called by the HTTP store when it cannot connect; waits up to `wait_s` for the
        supervisor's next round.
        """
        if self._stopping.is_set():
            return False
        if self.process.poll() is not None:
            self._await_check(wait_s)
        # A start under way holds the lock until the new child answers.
        if self._lock.acquire(timeout=wait_s):
            self._lock.release()
        return self.process.poll() is None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _await_check(self, wait_s: float) -> None:
        """Wake the supervisor and wait until it has completed a full round."""
        with self._done:
            target = self._rounds + 1  # a round begun before we asked may have looked already
            self._wake.set()
            self._done.wait_for(
                lambda: self._checks >= target or self._stopping.is_set(), timeout=wait_s
            )

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(CHECK_EVERY_S)
            self._wake.clear()
            if self._stopping.is_set():
                break
            with self._done:
                self._rounds += 1
            try:
                self._check()
            except Exception:  # never let the supervisor die; say why and try again
                log.exception("store: supervising the server for %s failed", self.location)
            with self._done:
                self._checks += 1
                self._done.notify_all()
        with self._done:
            self._done.notify_all()

    def _check(self) -> None:
        """One round: kill the child if asked to, start it again if it is not running."""
        reason = None
        if self._kill_requested:
            self._kill_requested = False
            if self.process.poll() is None:
                with self._lock:
                    self.process.kill()
                    self.process.wait()
                reason = "overrun"
        code = self.process.poll()
        if code is None:
            return
        reason = reason or "died"
        if reason == "died":
            log.warning(
                "store: the server for %s (pid %s) exited with code %s; starting it again on %s",
                self.location,
                self.process.pid,
                code,
                self.url,
            )
        else:
            log.warning(
                "store: the server for %s ignored its time limit; killed it (code %s), "
                "starting it again on %s",
                self.location,
                code,
                self.url,
            )
        now = time.monotonic()
        if now - self._last_restart < CALM_S:
            self._backoff = min(max(BACKOFF_FIRST_S, self._backoff * 2), BACKOFF_MAX_S)
        else:
            self._backoff = 0.0
        if reason == "died" and self._backoff and self._stopping.wait(self._backoff):
            return
        self._last_restart = time.monotonic()
        with self._lock:
            if self._stopping.is_set():
                return
            self.restarts += 1
            self.restart_reasons[reason] += 1
            try:
                self._start()
                self.queries.reset()  # the old child's timeout threads died with it
            except StoreError as exc:
                log.error("store: could not start the server again: %s", exc)

    def _wait_ready(self, offset: int = 0) -> None:
        started = last_progress = last_log = time.monotonic()
        seen = _activity(self.process.pid)
        while True:
            now = time.monotonic()
            activity = _activity(self.process.pid)
            if activity is None or activity != seen:
                seen, last_progress = activity, now
            if now - last_progress > HANG_S:
                break
            if now - last_log >= PROGRESS_EVERY_S:
                last_log = now
                log.info(
                    "store: still opening %s (%.0f s; replaying its write-ahead log)",
                    self.location,
                    now - started,
                )
            if self.process.poll() is not None:
                with self.log.open("rb") as logged:
                    logged.seek(offset)
                    tail = logged.read().decode("utf-8", "replace")[-2000:]
                if "lock" in tail.lower():
                    raise _StoreLocked(
                        f"the store server for {self.location} stopped at start (another "
                        "process has the store open: a `hub serve`, or `hub harvest`?): "
                        f"{tail.strip()}"
                    )
                raise StoreError(
                    f"the store server for {self.location} stopped at start: {tail.strip()}"
                )
            try:
                requests.get(self.url + "/", timeout=1)
                if now - started > PROGRESS_EVERY_S:
                    log.info("store: %s open after %.0f s", self.location, now - started)
                return
            except requests.RequestException:
                time.sleep(0.05)
        self._end_child()
        raise StoreError(
            f"the store server for {self.location} made no progress for {HANG_S:g} s while "
            f"opening (no CPU time, no disk reads or writes); see {self.log}"
        )

    def stop(self) -> None:
        """Stop supervising, stop the child (it flushes on SIGTERM) and forget its record."""
        self._stopping.set()
        self._wake.set()
        supervisor = getattr(self, "_supervisor", None)
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(HANG_S + 30)
        with self._lock:
            self._end_child()

    def _end_child(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        path = server_file(self.location)
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == self.process.pid:
                path.unlink()
        except (OSError, ValueError):
            pass
