"""Local Elasticsearch manager: fetch the minimal distribution with mvn, install, start, stop, status."""

from __future__ import annotations

import json
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path

from rezonans.config import Settings
from rezonans.errors import ServiceError

log = logging.getLogger(__name__)

GROUP_ID = "org.elasticsearch.distribution.integ-test-zip"
ARTIFACT_ID = "elasticsearch"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.rezonans</groupId><artifactId>es-fetch</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies><dependency>
    <groupId>{group}</groupId><artifactId>{artifact}</artifactId>
    <version>{version}</version><type>zip</type>
  </dependency></dependencies>
</project>
"""


class ServerError(ServiceError):
    """The local server could not be fetched, installed, started or stopped; the message says how to fix it."""


def version_spec(version: str) -> str:
    """Maven version for a setting: '8.19' → the newest 8.19.x ('[8.19.0,8.20.0)'); '8.19.21' → exactly that."""
    parts = version.split(".")
    if not all(p.isdigit() for p in parts) or not 2 <= len(parts) <= 3:
        raise ServerError(f"es_version {version!r} must look like 8.19 or 8.19.21")
    if len(parts) == 3:
        return version
    major, minor = int(parts[0]), int(parts[1])
    return f"[{major}.{minor}.0,{major}.{minor + 1}.0)"


def find_java_home() -> Path:
    """The JDK to run the server with: $ES_JAVA_HOME, $JAVA_HOME or the `java` on PATH."""
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(var)
        if value and (Path(value) / "bin" / "java").exists():
            return Path(value)
    java = shutil.which("java")
    if not java:
        raise ServerError(
            "no Java found: install a JDK 17+ (Debian: apt-get install -y openjdk-17-jdk-headless) or set ES_JAVA_HOME"
        )
    return Path(os.path.realpath(java)).parent.parent


def fetch_distribution(version: str, cache_dir: Path) -> Path:
    """Return the distribution zip, fetching it with `mvn` from the configured Maven repositories if not cached."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = sorted(cache_dir.glob(f"{ARTIFACT_ID}-*.zip"), key=_zip_version)
    wanted = version_spec(version)
    matching = [z for z in cached if _matches(_zip_version(z), version)]
    if matching:
        return matching[-1]
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServerError("no `mvn` found: install Maven (Debian: apt-get install -y maven) to fetch Elasticsearch")
    with tempfile.TemporaryDirectory(prefix="rezonans-mvn-") as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(_POM.format(group=GROUP_ID, artifact=ARTIFACT_ID, version=wanted), encoding="utf-8")
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={cache_dir}",
            "-DexcludeTransitive=true",
        ]
        log.info("fetching Elasticsearch %s with mvn", wanted)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise ServerError(
                f"mvn could not fetch {GROUP_ID}:{ARTIFACT_ID}:{wanted}:zip — check Maven's network "
                f"settings (~/.m2/settings.xml) and es_version.\n{tail}"
            )
    cached = sorted(
        (z for z in cache_dir.glob(f"{ARTIFACT_ID}-*.zip") if _matches(_zip_version(z), version)), key=_zip_version
    )
    if not cached:
        raise ServerError(f"mvn finished but no {ARTIFACT_ID}-*.zip appeared in {cache_dir}")
    return cached[-1]


def _zip_version(path: Path) -> tuple[int, ...]:
    """Version tuple from a file name like elasticsearch-8.19.21.zip."""
    m = re.search(r"-(\d+(?:\.\d+)*)\.zip$", path.name)
    return tuple(int(x) for x in m.group(1).split(".")) if m else ()


def _matches(found: tuple[int, ...], version: str) -> bool:
    """Whether a found version satisfies the setting (prefix match)."""
    want = tuple(int(x) for x in version.split("."))
    return found[: len(want)] == want


@dataclass(frozen=True)
class ClusterRole:
    """A node's place in a local cluster: the cluster's name, every member's transport port, who may be master."""

    cluster: str
    transport_ports: tuple[int, ...]
    master_node: str  # the one master-eligible node (a two-node cluster cannot survive losing a voter)
    master_eligible: bool


@dataclass
class LocalServer:
    """One local Elasticsearch instance in its own folder: a single node, or a member of a `LocalCluster`."""

    settings: Settings
    name: str = "default"
    port: int | None = None
    security: bool | None = None
    user: str | None = None
    password: str | None = None
    heap: str | None = None
    role: ClusterRole | None = None
    _started_in: float | None = field(default=None, init=False)

    @property
    def base(self) -> Path:
        """Folder holding distributions and instances: readable by the service user."""
        return es_base(self.settings)

    @property
    def folder(self) -> Path:
        """This instance's folder: distribution copy, config, data and logs."""
        return self.base / "instances" / self.name

    @property
    def http_port(self) -> int:
        """HTTP port on 127.0.0.1."""
        return self.port or self.settings.es_port

    @property
    def url(self) -> str:
        """Base URL of this instance."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid_file(self) -> Path:
        """Where the server writes its process id."""
        return self.folder / "es.pid"

    def home(self) -> Path:
        """The unpacked distribution of this instance (raises if not installed)."""
        homes = sorted(self.folder.glob("elasticsearch-*"))
        if not homes:
            raise ServerError(f"Elasticsearch is not installed in {self.folder}: run `rezonans es install`")
        return homes[-1]

    # -- install ---------------------------------------------------------------------------------------------
    def install(self) -> Path:
        """Fetch (cached) and unpack the distribution, write config, hand the folder to the service user."""
        zip_path = fetch_distribution(self.settings.es_version, self.base / "dist")
        version = ".".join(map(str, _zip_version(zip_path)))
        target = self.folder / f"elasticsearch-{version}"
        if not target.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            for old in self.folder.glob("elasticsearch-*"):
                shutil.rmtree(old)
            with zipfile.ZipFile(zip_path) as zf:
                zf.extractall(self.folder)
            for path in (target / "bin").iterdir():
                path.chmod(0o755)
            # Java's own helper binaries lose their exec bit in a zip too.
            for path in target.rglob("*"):
                if path.is_file() and path.parent.name == "bin":
                    path.chmod(0o755)
        self._write_config(target)
        self._chown()
        self._add_user(target)
        return target

    def _write_config(self, home: Path) -> None:
        """Single-node, loopback-only configuration with explicit security and heap settings."""
        security = self.settings.es_security if self.security is None else self.security
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {
            "cluster.name": f"rezonans-{self.name}",
            "node.name": f"rezonans-{self.name}",
            "path.data": str(self.folder / "data"),
            "path.logs": str(self.folder / "logs"),
            "network.host": "127.0.0.1",
            "http.port": self.http_port,
            "transport.port": self.http_port + 100,
            **self._discovery(),
            "xpack.security.enabled": security,
            "xpack.security.http.ssl.enabled": False,
            "xpack.security.transport.ssl.enabled": False,
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.auto_create_index": True,
        }
        (home / "config" / "elasticsearch.yml").write_text(
            "".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()), encoding="utf-8"
        )
        heap_min = self.heap or self.settings.es_heap
        heap_max = self.heap or self.settings.es_max_heap
        (home / "config" / "jvm.options.d").mkdir(exist_ok=True)
        (home / "config" / "jvm.options.d" / "heap.options").write_text(
            f"-Xms{heap_min}\n-Xmx{heap_max}\n", encoding="utf-8"
        )

    def _discovery(self) -> dict[str, object]:
        """Single-node discovery, or the seed hosts, bootstrap master and roles of a cluster member."""
        if self.role is None:
            return {"discovery.type": "single-node"}
        config: dict[str, object] = {
            "cluster.name": f"rezonans-{self.role.cluster}",
            "discovery.seed_hosts": [f"127.0.0.1:{p}" for p in self.role.transport_ports],
            "node.roles": ["master", "data", "ingest"] if self.role.master_eligible else ["data", "ingest"],
        }
        if self.role.master_eligible:
            config["cluster.initial_master_nodes"] = [f"rezonans-{self.role.master_node}"]
        return config

    def _add_user(self, home: Path) -> None:
        """Create the file-realm superuser of a secured instance (after the folder belongs to the service user)."""
        security = self.settings.es_security if self.security is None else self.security
        if not (security and self.user and self.password):
            return
        users = home / "bin" / "elasticsearch-users"
        env = self._env(home)
        subprocess.run(
            self._as_service_user([str(users), "userdel", self.user]), env=env, capture_output=True, text=True
        )
        proc = subprocess.run(
            self._as_service_user([str(users), "useradd", self.user, "-p", self.password, "-r", "superuser"]),
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise ServerError(f"could not create user {self.user}: {proc.stderr.strip() or proc.stdout.strip()}")

    def _service_user(self) -> str | None:
        """The non-root account that runs the server (None when we are not root: run as ourselves)."""
        if os.geteuid() != 0:
            return None
        name = self.settings.es_user_name
        try:
            pwd.getpwnam(name)
        except KeyError:
            useradd = shutil.which("useradd") or "/usr/sbin/useradd"
            proc = subprocess.run(
                [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise ServerError(
                    f"could not create the service user {name!r}: {proc.stderr.strip()} "
                    "(Elasticsearch refuses to run as root)"
                ) from None
        return name

    def _as_service_user(self, cmd: list[str]) -> list[str]:
        """Wrap a command so that it runs as the service user when we are root."""
        user = self._service_user()
        if user is None:
            return cmd
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", user, "--", *cmd]

    def _chown(self) -> None:
        """Hand the instance folder to the service user (config files ship as 0660)."""
        user = self._service_user()
        if user is None:
            return
        entry = pwd.getpwnam(user)
        for parent in [self.base, *self.base.parents]:
            if str(parent) in ("/", ""):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)  # let the service user traverse to its folder
        for root, _dirs, files in os.walk(self.folder):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in files:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)

    def _env(self, home: Path) -> dict[str, str]:
        """Environment for the server and its tools: the system JDK, a private temp dir."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "JAVA_TOOL"))}
        env["ES_JAVA_HOME"] = str(find_java_home())
        tmp = self.folder / "tmp"
        tmp.mkdir(exist_ok=True)
        if self._service_user():
            entry = pwd.getpwnam(self._service_user() or "")
            os.chown(tmp, entry.pw_uid, entry.pw_gid)
        env["ES_TMPDIR"] = str(tmp)
        env["ES_PATH_CONF"] = str(home / "config")
        return env

    # -- run ---------------------------------------------------------------------------------------------------
    def health(self, timeout: float = 2.0) -> dict | None:
        """Cluster health of this instance, or None if nothing answers."""
        req = urllib.request.Request(f"{self.url}/_cluster/health")
        if self.user and self.password:
            token = b64encode(f"{self.user}:{self.password}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return {"status": "unauthorized"}
            return None
        except (OSError, ValueError):
            return None

    def running_pid(self) -> int | None:
        """Process id of our server if it is alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def start(self, wait: float = 180.0) -> float:
        """Start the server (installing if needed) and wait for yellow health; return seconds taken."""
        if self.running_pid() and self.health():
            return 0.0
        if _port_in_use(self.http_port):
            health = self.health()
            if health is not None:
                log.info("an Elasticsearch server already answers on port %s", self.http_port)
                return 0.0
            raise ServerError(
                f"port {self.http_port} on 127.0.0.1 is taken by another program: stop it or set "
                f"REZONANS_ES_PORT (and REZONANS_ES_URL) to a free port"
            )
        try:
            home = self.home()
        except ServerError:
            home = self.install()
        self._write_config(home)
        self._chown()
        self._add_user(home)
        log_file = self.folder / "logs" / f"rezonans-{self.name}.log"
        for old in (self.pid_file,):
            old.unlink(missing_ok=True)
        cmd = self._as_service_user([str(home / "bin" / "elasticsearch"), "-d", "-p", str(self.pid_file)])
        started = time.monotonic()
        proc = subprocess.run(cmd, env=self._env(home), capture_output=True, text=True, timeout=wait)
        if proc.returncode != 0:
            raise ServerError(
                f"Elasticsearch failed to start (exit {proc.returncode}):\n"
                f"{(proc.stdout + proc.stderr)[-3000:]}\n{self.log_tail(log_file)}"
            )
        deadline = started + wait
        while time.monotonic() < deadline:
            health = self.health()
            if health and health.get("status") in ("yellow", "green", "unauthorized"):
                self._started_in = time.monotonic() - started
                return self._started_in
            if self.pid_file.exists() and self.running_pid() is None:
                break
            time.sleep(0.5)
        raise ServerError(
            f"Elasticsearch did not become healthy on {self.url} within {wait:.0f}s.\n{self.log_tail(log_file)}"
        )

    def log_tail(self, log_file: Path | None = None, lines: int = 30) -> str:
        """Last lines of the server log, for error messages."""
        log_file = log_file or self.folder / "logs" / f"rezonans-{self.name}.log"
        try:
            text = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return f"(no log at {log_file})"
        return f"--- last lines of {log_file} ---\n" + "\n".join(text[-lines:])

    def stop(self, wait: float = 60.0) -> bool:
        """Stop the server; return False if it was not running."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.running_pid() is None:
                self.pid_file.unlink(missing_ok=True)
                return True
            time.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


@dataclass
class LocalCluster:
    """Several local nodes on consecutive loopback ports forming one cluster (for tests and trials of scale-out).

    The first node is the only master-eligible one, so stopping any other node leaves the cluster working
    (its shards' replicas take over); the others hold data. Node i listens on port + i (transport + 100).
    """

    settings: Settings
    nodes: int = 2
    name: str = "cluster"
    port: int | None = None
    heap: str | None = None

    def members(self) -> list[LocalServer]:
        """The member servers, first (master-eligible) first."""
        if self.nodes < 2:
            raise ServerError("a cluster needs at least 2 nodes (use `rezonans es start` for one)")
        base = self.port or self.settings.es_port
        names = [f"{self.name}-{i + 1}" for i in range(self.nodes)]
        transport = tuple(base + i + 100 for i in range(self.nodes))
        return [
            LocalServer(
                self.settings,
                name=names[i],
                port=base + i,
                heap=self.heap,
                role=ClusterRole(self.name, transport, names[0], i == 0),
            )
            for i in range(self.nodes)
        ]

    @property
    def urls(self) -> list[str]:
        """HTTP URLs of every member (what REZONANS_ES_URL takes, comma-separated)."""
        return [m.url for m in self.members()]

    def start(self, wait: float = 180.0) -> float:
        """Start every member in order and wait until the cluster has them all; seconds taken."""
        started = time.monotonic()
        for member in self.members():
            member.start(wait=wait)
        deadline = started + wait
        first = self.members()[0]
        while time.monotonic() < deadline:
            health = first.health()
            if health and health.get("number_of_nodes", 0) >= self.nodes:
                return time.monotonic() - started
            time.sleep(0.5)
        raise ServerError(f"the cluster did not gather {self.nodes} nodes within {wait:.0f}s.\n{first.log_tail()}")

    def stop(self) -> int:
        """Stop every member; how many were running."""
        return sum(1 for member in reversed(self.members()) if member.stop())

    def remove(self) -> None:
        """Stop the members and delete their folders (data included)."""
        self.stop()
        for member in self.members():
            shutil.rmtree(member.folder, ignore_errors=True)


def es_base(settings: Settings) -> Path:
    """Where local servers live: settings.es_dir, or /var/lib/rezonans/elasticsearch for root with a home under /root."""
    base = settings.es_dir
    if os.geteuid() == 0 and str(base).startswith("/root"):
        base = Path("/var/lib/rezonans/elasticsearch")
    return base


def _port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
