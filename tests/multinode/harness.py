"""The multi-node test's machinery: a network of separate "machines" and the desk's processes.

Shapes:

- ``Relay``: TCP forwarders (threads) from an address a node can reach to a service on the
  host's 127.0.0.1 (PostgreSQL, Redis, the S3 server listen there only; the machine's
  PostgreSQL configuration is left as it is). A forwarder may be given a ``Gate``: while it is
  closed, bytes from the node are held (the object store "hangs" for that node), which is how
  the test catches a worker in the middle of writing a sheet.
- ``Network``: one link per node. With network namespaces (root, ``ip``), each node is a
  namespace with a veth pair to the host (a /30 each: host ``10.A.B.4i+1``, node ``+2``) and
  a default route through it; its services are reached at the host end's address. Without
  them (``Network.fallback``), every node is a process on 127.0.0.1 with its own ports.
- ``Node``: one of the ``Procfile``'s commands (``web``, ``worker``) run in a node, in its own
  process group, with its own empty ``VAR_DIR`` and log file.

Everything started is stopped by ``close()`` (processes SIGKILLed by process group,
namespaces deleted with their links), which the fixture calls in a finalizer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = BASE_DIR / ".venv" / "bin"


def procfile_command(name: str) -> str:
    """The command of process type ``name`` in the desk's Procfile, as written."""
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        kind, _, command = line.partition(":")
        if kind.strip() == name:
            return command.strip()
    raise LookupError(f"no {name!r} process in the Procfile")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.25, what: str = "condition"):
    """Polls ``condition()`` until it returns something true (returned) or ``timeout``
    seconds pass (AssertionError naming ``what``)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- TCP relay ----------------------------------------------------------------------------
class Gate:
    """Open: bytes flow. Closed: a forwarder holds what the node sends, and ``held`` is set."""

    def __init__(self):
        self._open = threading.Event()
        self._open.set()
        self.held = threading.Event()

    def close(self) -> None:
        self.held.clear()
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def pass_through(self) -> None:
        if not self._open.is_set():
            self.held.set()
            self._open.wait()


class Relay:
    """Forwarders from (listen address, port) to a host service, one thread per direction."""

    def __init__(self):
        self._listeners: list[socket.socket] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False

    def forward(self, listen_host: str, target: tuple[str, int], gate: Gate | None = None) -> int:
        """Listens on ``listen_host`` (a free port) and forwards each connection to
        ``target``; returns the port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((listen_host, 0))
        listener.listen(64)
        self._listeners.append(listener)
        threading.Thread(
            target=self._accept, args=(listener, target, gate), daemon=True, name="relay"
        ).start()
        return listener.getsockname()[1]

    def _accept(self, listener, target, gate):
        while not self._closed:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, gate), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, gate: Gate | None) -> None:
        try:
            while chunk := source.recv(65536):
                if gate is not None:
                    gate.pass_through()
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            # The node went away (a killed worker): its server-side session ends with it,
            # so PostgreSQL rolls its transaction back and frees its row locks at once.
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            every = self._listeners + self._sockets
        for sock in every:
            with contextlib.suppress(OSError):
                sock.close()


# --- the network ----------------------------------------------------------------------------
def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=20)


@dataclass
class Link:
    """How one node reaches the host (``host_address``) and is reached (``address``);
    ``namespace`` is None in the fallback."""

    name: str
    address: str
    host_address: str
    namespace: str | None = None


class Network:
    def __init__(self, names: list[str], *, allow_namespaces: bool = True):
        self.links: dict[str, Link] = {}
        self.namespaces: list[str] = []
        self.fallback_reason = ""
        reason = self._namespaces_unavailable() if allow_namespaces else "MULTINODE_NAMESPACES=0"
        if reason:
            self.fallback_reason = reason
            for name in names:
                self.links[name] = Link(name, "127.0.0.1", "127.0.0.1")
            return
        tag = os.getpid() % 100000
        octet2, octet3 = 200 + tag % 50, (tag // 50) % 250
        try:
            for index, name in enumerate(names):
                self._add_namespace(f"dmn{tag}{name}"[:15], index, f"10.{octet2}.{octet3}", name)
        except Exception:
            self.close()
            raise

    @staticmethod
    def _namespaces_unavailable() -> str:
        if os.geteuid() != 0:
            return "not running as root"
        try:
            subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"`ip netns` unavailable ({exc})"
        probe = f"dmnprobe{os.getpid() % 100000}"
        try:
            _ip("netns", "add", probe)
        except subprocess.CalledProcessError as exc:
            return f"`ip netns add` refused: {exc.stderr.strip()}"
        _ip("netns", "delete", probe)
        return ""

    def _add_namespace(self, namespace: str, index: int, prefix: str, name: str) -> None:
        host_end, node_end = f"{namespace[:12]}h{index}", f"{namespace[:12]}n{index}"
        host_ip, node_ip = f"{prefix}.{4 * index + 1}", f"{prefix}.{4 * index + 2}"
        _ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", node_end)
        _ip("link", "set", node_end, "netns", namespace)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_end)
        _ip("link", "set", host_end, "up")
        inside = ("-n", namespace)
        _ip(*inside, "addr", "add", f"{node_ip}/30", "dev", node_end)
        _ip(*inside, "link", "set", node_end, "up")
        _ip(*inside, "link", "set", "lo", "up")
        _ip(*inside, "route", "add", "default", "via", host_ip)
        self.links[name] = Link(name, node_ip, host_ip, namespace)

    @property
    def fallback(self) -> bool:
        return bool(self.fallback_reason)

    def close(self) -> None:
        """Deletes the namespaces; each one's veth pair goes with it."""
        for namespace in self.namespaces:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                _ip("netns", "delete", namespace)
        self.namespaces.clear()


# --- the desk's processes -----------------------------------------------------------------
@dataclass
class Node:
    name: str
    link: Link
    kind: str
    env: dict[str, str]
    var_dir: Path
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        command = ["bash", "-c", f"exec {procfile_command(self.kind)}"]
        if self.link.namespace:
            command = ["ip", "netns", "exec", self.link.namespace, *command]
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group (the worker and its pool): a machine gone."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        self.log.close()

    def describe(self) -> str:
        where = f"namespace {self.link.namespace}" if self.link.namespace else "127.0.0.1"
        return f"{self.name} ({self.kind}, {where}, VAR_DIR {self.var_dir})"


def log_tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])
