"""docker-compose.yml, proven without Docker: every app service's command run as a
process the way its container would run it, and a user's day through that stack.

This machine has no Docker engine. What a container gives a process is
reproduced, and each difference is the least one that makes a container a process:

- **The image.** Each service gets its own copy of the build context (the working
  tree less .dockerignore, compiled as the Dockerfile's ``compileall`` does) as
  the image's WORKDIR ``/app``: a path starting with
  ``/app`` in a command or a variable means that copy. The image's ``/opt/venv``
  (uv sync of the same uv.lock) is the worktree's ``.venv``. The image's ENV lines
  are read from the Dockerfile.
- **Environment.** Only what compose gives the service: the image's ENV, then its
  ``env_file`` (.env, written by the test from .env.example), then its
  ``environment``, interpolated from .env as compose does, plus HOSTNAME and HOME.
- **Host names.** The ``postgres`` and ``redis`` services are replaced by the
  suite's own PostgreSQL and Redis (scripts/with-services.sh). A container would
  resolve those names by DNS; here DATABASE_URL and REDIS_URL, which name them in
  ``environment`` (which wins over .env, so rewriting .env would not reach them),
  are pointed at the suite's servers: a fresh database per run, so ``migrate``
  starts from nothing as on a new machine, and a Redis database of its own.
- **Named volumes.** One temporary folder per volume, symlinked at the mount point
  inside every copy that mounts it: the copies share nothing else.
- **Ports.** web's container port is bound to a free port on 127.0.0.1 by
  rewriting the ``--bind`` of its command and the URL of its healthcheck.
- **HOSTNAME.** Containers have a host name each; these processes share the
  machine's, and the Celery node names stay apart by their prefix.

Services start in dependency order, each once the conditions of its
``depends_on`` hold: a healthcheck (run in that service's copy and environment)
passed, or a one-shot service exited 0. Not proven here: the image build itself,
``restart`` policies, Docker's DNS and networks, and the published host address
(only read from the file).
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import fnmatch
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests
import yaml

from tests.support.site import TestSite
from tests.support.smtp import PASSWORD, USER, SmtpSink
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = "/app"  # the Dockerfile's WORKDIR
IMAGE_VENV = "/opt/venv"  # the Dockerfile's UV_PROJECT_ENVIRONMENT
# python:3.11-slim's own ENV, under the Dockerfile's.
BASE_IMAGE_ENV = {
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
# Services replaced by the suite's servers.
REPLACED = {"postgres", "redis"}
# A failure threshold, not a target: on an idle 2-core machine the stack is up
# in about 25 s (migrate is 11 s of CPU); with four test runs sharing it, 80 s,
# and on a machine twice as slow one run took more than 150 s.
STACK_DEADLINE = 300.0


def load_compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in compose["services"].items() if "build" in spec}


# --- Compose's rules, the parts docker-compose.yml uses ---------------------------


class MissingVariable(Exception):
    pass


_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """$$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}."""

    def replace(match: re.Match[str]) -> str:
        escaped, braced, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = braced or bare
        value = variables.get(name)
        unset = value is None or (operator is not None and operator.startswith(":") and not value)
        if operator in (":-", "-") and unset:
            return argument
        if operator in (":?", "?") and unset:
            raise MissingVariable(f"{name}: {argument}")
        return value or ""

    return _VARIABLE.sub(replace, text)


def read_env_file(path: Path) -> dict[str, str]:
    """Compose's .env format: KEY=value, # comments (inline after a blank in an
    unquoted value), quotes, and $VARIABLES from lines above."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if value[:1] in ("'", '"') and value.count(value[0]) >= 2:
            quote = value[0]
            value = value[1 : value.index(quote, 1)]
            if quote == "'":
                values[key] = value
                continue
        else:
            value = re.split(r"\s#", value, maxsplit=1)[0].rstrip()
        values[key] = interpolate(value, values)
    return values


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` (relative, with /) out of the build
    context; a folder's pattern covers everything under it, ``!`` lets back in."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        if pattern.startswith("**/"):
            rest = pattern[3:]
            hit = any(
                fnmatch.fnmatchcase("/".join(prefix.split("/")[i:]), rest)
                for prefix in prefixes
                for i in range(len(prefix.split("/")))
            )
        else:
            hit = any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)
        if hit:
            ignored = not negate
    return ignored


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def image_env() -> dict[str, str]:
    env = dict(BASE_IMAGE_ENV)
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                key, _, value = item.partition("=")
                env[key] = interpolate(value, env)
    return env


def parse_seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", text)
    assert match, text
    number, unit = int(match[1]), match[2]
    return number / 1000 if unit == "ms" else number * (60 if unit == "m" else 1)


def settings_variables() -> set[str]:
    """Every variable config/settings.py reads through the env_* helpers."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("env_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


# --- Fast checks of the file itself -------------------------------------------


def test_settings_parser_finds_the_variables_settings_read():
    names = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "VERIFIER_TIMEOUT_SECONDS", "MEDIA_ROOT"} <= names
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+", name) for name in names)


def test_every_app_service_reads_the_env_file():
    for name, spec in app_services(load_compose()).items():
        env_file = spec.get("env_file")
        files = [env_file] if isinstance(env_file, str) else env_file or []
        assert ".env" in files, f"{name} does not read .env"


def test_every_variable_the_settings_read_can_reach_every_app_service():
    # .env is the operator's copy of .env.example: a variable missing there is one
    # nobody knows to set, and one not in `environment` either never arrives.
    documented = set(read_env_file(ROOT / ".env.example"))
    for name, spec in app_services(load_compose()).items():
        receivable = set(spec["environment"]) | documented
        missing = sorted(settings_variables() - receivable)
        assert not missing, f"{name} cannot receive {missing}"


def test_compose_refuses_to_start_without_the_required_variables():
    compose = load_compose()
    for spec in app_services(compose).values():
        for required in ("SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD"):
            given = {"SECRET_KEY": "k", "ALLOWED_HOSTS": "h", "POSTGRES_PASSWORD": "p"}
            del given[required]
            everything = "\n".join(map(str, spec["environment"].values()))
            with pytest.raises(MissingVariable, match=required):
                interpolate(everything, given)


def test_dockerignore_keeps_state_secrets_and_environments_out_of_the_image():
    patterns = dockerignore_patterns()
    for path in [
        ".venv/bin/python",
        ".git/HEAD",
        ".env",
        ".env.production",
        "var/demo-logins.txt",
        "var/media/imports/a.csv",
        ".tools/bin/uv",
        "node_modules/x/index.js",
        "test-results/trace.zip",
        "links/__pycache__/models.cpython-311.pyc",
        "control/celery.exchange",
    ]:
        assert dockerignored(path, patterns), path
    for path in ["manage.py", "uv.lock", "config/settings.py", ".env.example", "static/app.css"]:
        assert not dockerignored(path, patterns), path


def test_gunicorn_is_published_on_loopback_only_unless_asked():
    web = load_compose()["services"]["web"]
    (mapping,) = web["ports"]
    assert interpolate(mapping, {}) == "127.0.0.1:8000:8000"
    assert interpolate(mapping, {"WEB_PUBLISH": "10.0.0.5:8000"}) == "10.0.0.5:8000:8000"


def test_every_service_has_a_healthcheck_or_runs_once():
    for name, spec in load_compose()["services"].items():
        if spec.get("restart") == "no":
            continue
        assert spec.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_beat_and_workers_start_after_the_migrations(settings):
    services = load_compose()["services"]
    for name in ("web", "worker", "bulk-worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
    assert "migrate" in services["migrate"]["command"]
    assert services["migrate"]["restart"] == "no"


def test_link_gap_exports_are_read_on_the_bulk_queue(settings):
    from links.prospecting.tasks import read_backlink_export

    queue = settings.CELERY_TASK_ROUTES[read_backlink_export.name]["queue"]
    assert queue == "bulk"
    services = load_compose()["services"]
    assert queue in services["bulk-worker"]["command"]


def test_the_folder_broker_keeps_its_control_files_under_var_dir(tmp_path):
    # As `make run` (scripts/run.sh) has it: no REDIS_URL, the folders it makes.
    var = tmp_path / "var"
    for folder in ("queue", "processed"):
        (var / "broker" / folder).mkdir(parents=True)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {
        **BASE_IMAGE_ENV,
        "PYTHONPATH": str(ROOT),
        "SECRET_KEY": "x",
        "VAR_DIR": str(var),
    }
    celery = str(ROOT / ".venv" / "bin" / "celery")
    result = subprocess.run(
        [celery, "-A", "config", "inspect", "ping", "--timeout", "0.5"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "No nodes replied" in result.stdout + result.stderr, result.stderr
    control = {path.name for path in (var / "broker" / "control").iterdir()}
    assert "reply.celery.pidbox.exchange" in control
    assert not (elsewhere / "control").exists()


def test_media_is_one_volume_mounted_at_media_root_in_every_app_service():
    compose = load_compose()
    for name, spec in app_services(compose).items():
        mounts = [volume.split(":")[:2] for volume in spec.get("volumes", [])]
        assert ["media", spec["environment"]["MEDIA_ROOT"]] in mounts, name
    assert "media" in compose["volumes"]


# --- The stack as processes -----------------------------------------------------


@dataclass
class Service:
    name: str
    spec: dict[str, Any]
    app: Path
    env: dict[str, str]
    command: list[str]
    healthcheck: list[str] | None
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    probe: subprocess.Popen[bytes] | None = None
    state: str = "waiting"  # started, healthy, completed, failed
    reason: str = ""
    timeline: list[str] = field(default_factory=list)

    def run(self, argv: list[str], timeout: float, **extra_env: str) -> subprocess.CompletedProcess:
        """`docker compose exec`: a command in this service's copy and environment."""
        return subprocess.run(
            argv,
            cwd=self.app,
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _command_list(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


@dataclass
class Stack:
    services: dict[str, Service]
    stopping: threading.Event = field(default_factory=threading.Event)
    began: float = field(default_factory=time.monotonic)
    threads: list[threading.Thread] = field(default_factory=list)

    def _set(self, service: Service, state: str) -> None:
        service.state = state
        service.timeline.append(f"{state} at {time.monotonic() - self.began:.1f} s")

    def timeline(self) -> str:
        return "; ".join(f"{s.name}: {', '.join(s.timeline)}" for s in self.services.values())

    def _satisfied(self, dependency: str, condition: str) -> bool:
        if dependency in REPLACED:
            return True  # the suite's servers are up before the suite starts
        state = self.services[dependency].state
        if condition == "service_completed_successfully":
            return state == "completed"
        if condition == "service_healthy":
            return state == "healthy"
        return state in {"started", "healthy", "completed"}

    def _start(self, service: Service) -> None:
        for dependency, spec in (service.spec.get("depends_on") or {}).items():
            condition = spec["condition"] if isinstance(spec, dict) else "service_started"
            while not self._satisfied(dependency, condition):
                if self.stopping.is_set():
                    return
                time.sleep(0.1)
        with service.log_path.open("wb") as log:
            service.process = subprocess.Popen(
                service.command,
                cwd=service.app,
                env=service.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._set(service, "started")
        check = service.spec.get("healthcheck") or {}
        # Docker probes first one start_interval after the start, then every one.
        every = parse_seconds(check.get("start_interval", "1s")) if service.healthcheck else 0.2
        timeout = parse_seconds(check.get("timeout", "30s"))
        while not self.stopping.wait(every):
            code = service.process.poll()
            if code is not None:
                self._set(service, "completed" if code == 0 else "failed")
                service.reason = f"exited with {code}"
                return
            if service.healthcheck is None:
                continue
            service.probe = subprocess.Popen(
                service.healthcheck,
                cwd=service.app,
                env=service.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                output, _ = service.probe.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(service.probe.pid, signal.SIGKILL)
                output = b"timed out"
                service.probe.wait()
            if service.probe.returncode == 0:
                self._set(service, "healthy")
                return
            service.reason = "healthcheck: " + output.decode(errors="replace")[-1500:]

    def up(self, timeout: float) -> None:
        self.threads = [
            threading.Thread(target=self._start, args=(service,), daemon=True)
            for service in self.services.values()
        ]
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {name: service.state for name, service in self.services.items()}
            failed = [name for name, state in states.items() if state == "failed"]
            if failed:
                self._fail(f"{failed} failed")
            if all(self._up(service) for service in self.services.values()):
                return
            time.sleep(0.2)
        self._fail(f"not up after {timeout:.0f} s: {states}")

    def _up(self, service: Service) -> bool:
        if service.spec.get("restart") == "no":
            return service.state == "completed"
        if service.healthcheck is not None:
            return service.state == "healthy"
        return service.state == "started"

    def report(self) -> str:
        logs = "\n".join(
            f"--- {s.name} ({s.state}) {s.reason}\n{s.log()[-3000:]}"
            for s in self.services.values()
        )
        return f"{self.timeline()}\n{logs}"

    def _fail(self, message: str) -> None:
        raise AssertionError(f"{message}\n{self.report()}")

    def assert_running(self) -> None:
        for service in self.services.values():
            one_shot = service.spec.get("restart") == "no"
            if not one_shot and service.process is not None and service.process.poll() is not None:
                self._fail(f"{service.name} exited")

    def down(self) -> None:
        """`docker compose down`: SIGTERM, then SIGKILL after 10 s."""
        self.stopping.set()
        for service in self.services.values():
            if service.probe is not None and service.probe.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.probe.pid, signal.SIGKILL)
        for thread in self.threads:
            thread.join(timeout=10)
        running = [s.process for s in self.services.values() if s.process is not None]
        for process in running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            # Children left in the session (gunicorn's or prefork's) go with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def copy_build_context(destination: Path) -> None:
    """`COPY . .` of the Dockerfile: the working tree less .dockerignore."""
    patterns = dockerignore_patterns()
    for folder, subfolders, files in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT)
        subfolders[:] = [
            name for name in subfolders if not dockerignored((relative / name).as_posix(), patterns)
        ]
        for name in files:
            path = (relative / name).as_posix()
            if not dockerignored(path, patterns):
                target = destination / path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / path, target)


def image_app_folder(work: Path) -> Path:
    """The image's /app: `COPY . .`, then the Dockerfile's compileall, built once
    and copied into each service as a container starts from the same image."""
    folder = work / "image-app"
    copy_build_context(folder)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q", "."],
        cwd=folder,
        env=BASE_IMAGE_ENV,
        check=True,
        capture_output=True,
    )
    return folder


def image_static_files(work: Path) -> Path:
    """The Dockerfile's collectstatic layer, shared by every copy as image layers
    are. scripts/run-tests.sh collected this same tree with the same command into
    STATIC_ROOT already (a minute of compressing on a busy machine): reuse that."""
    suite = os.environ.get("STATIC_ROOT")
    if suite and (Path(suite) / "staticfiles.json").exists():
        return Path(suite)
    folder = work / "image-static"
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--no-input"],
        cwd=ROOT,
        env={**BASE_IMAGE_ENV, "SECRET_KEY": "collectstatic-only", "STATIC_ROOT": str(folder)},
        check=True,
        capture_output=True,
    )
    return folder


def in_container(value: str, app: Path) -> str:
    """A path of the image, on this machine."""
    value = value.replace(IMAGE_VENV, str(ROOT / ".venv"))
    if value == WORKDIR or value.startswith(WORKDIR + "/"):
        return str(app) + value[len(WORKDIR) :]
    return value


def resolve_hosts(value: str, servers: Mapping[str, tuple[str, int, str]]) -> str:
    """What the container's DNS would do for the replaced services' names."""
    if "://" not in value:
        return value
    parts = urlsplit(value)
    if parts.hostname not in servers:
        return value
    host, port, path = servers[parts.hostname]
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_stack(
    work: Path, dotenv: Path, servers: Mapping[str, tuple[str, int, str]], web_port: int
) -> Stack:
    compose = load_compose()
    interpolation = read_env_file(dotenv)  # compose reads .env for ${...} in the file
    volumes = {name: work / "volumes" / name for name in compose.get("volumes", {})}
    for folder in volumes.values():
        folder.mkdir(parents=True)
    static = image_static_files(work)
    image_app = image_app_folder(work)
    services = {}
    for name, spec in app_services(compose).items():
        app = work / name / "app"
        shutil.copytree(image_app, app, symlinks=True)
        # The Dockerfile's `mkdir -p /app/var/media`, and its collected static files.
        (app / "var").mkdir()
        (app / "var" / "static").symlink_to(static, target_is_directory=True)
        home = work / name / "home"
        home.mkdir()
        for mount in spec.get("volumes", []):
            source, target = mount.split(":")[:2]
            mount_point = Path(in_container(target, app))
            mount_point.parent.mkdir(parents=True, exist_ok=True)
            mount_point.symlink_to(volumes[source], target_is_directory=True)

        env = {key: in_container(value, app) for key, value in image_env().items()}
        env["HOSTNAME"] = socket.gethostname()
        env["HOME"] = str(home)
        env_files = spec.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            assert env_file == ".env"
            env.update(read_env_file(dotenv))
        for key, value in (spec.get("environment") or {}).items():
            value = interpolate(str(value), interpolation)
            env[key] = resolve_hosts(in_container(value, app), servers)

        def localize(argument: str, spec: dict[str, Any] = spec, app: Path = app) -> str:
            argument = in_container(interpolate(argument, interpolation), app)
            # The published port: the container port, on a free port of 127.0.0.1.
            for mapping in spec.get("ports", []):
                container_port = interpolate(mapping, interpolation).rsplit(":", 1)[1]
                for address in ("0.0.0.0", "127.0.0.1"):
                    argument = argument.replace(
                        f"{address}:{container_port}", f"127.0.0.1:{web_port}"
                    )
            return argument

        test = (spec.get("healthcheck") or {}).get("test")
        healthcheck = None
        if test:
            test = [test] if isinstance(test, str) else test
            if test[0] == "CMD":
                healthcheck = [localize(arg) for arg in test[1:]]
            else:
                healthcheck = [
                    "sh",
                    "-c",
                    localize(" ".join(test[1:]) if len(test) > 1 else test[0]),
                ]
        services[name] = Service(
            name=name,
            spec=spec,
            app=app,
            env=env,
            command=[localize(arg) for arg in _command_list(spec["command"])],
            healthcheck=healthcheck,
            log_path=work / f"{name}.log",
        )
    return Stack(services)


def write_dotenv(path: Path, overrides: dict[str, str]) -> None:
    """The operator's .env: .env.example with the values this machine needs."""
    lines = []
    left = dict(overrides)
    for line in (ROOT / ".env.example").read_text().splitlines():
        key = line.partition("=")[0].strip()
        if "=" in line and key in left:
            line = f"{key}={left.pop(key)}"
        lines.append(line)
    lines += [f"{key}={value}" for key, value in left.items()]
    path.write_text("\n".join(lines) + "\n")


class Browser:
    """A browser behind the TLS proxy, both played by the test: the proxy adds
    X-Forwarded-Proto (docs/Caddyfile), and as HTTPS ends at the proxy the Secure
    cookies travel the loopback hop to gunicorn (requests itself would keep them
    from plain HTTP, hence the cookies and redirects by hand)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.origin = base.replace("http://", "https://")
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        for _ in range(10):
            cookies = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            headers = {"X-Forwarded-Proto": "https", "Origin": self.origin, "Cookie": cookies}
            response = requests.request(
                method,
                self.base + path,
                headers=headers,
                allow_redirects=False,
                timeout=30,
                **kwargs,
            )
            self.cookies.update({cookie.name: cookie.value for cookie in response.cookies})
            if response.status_code not in (301, 302, 303):
                return response
            path = response.headers["Location"]
            # An absolute (https://) location would mean the proxy's header was not trusted.
            assert path.startswith("/"), path
            method, kwargs = "GET", {}
        raise AssertionError("redirect loop")

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> requests.Response:
        data = {**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
        return self.request("POST", path, data=data, **kwargs)


@pytest.fixture
def fresh_database() -> Iterator[tuple[str, int, str]]:
    suite = urlsplit(os.environ["DATABASE_URL"])
    name = f"compose_{secrets.token_hex(4)}"
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield suite.hostname or "127.0.0.1", suite.port or 5432, name
    finally:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def stack_redis() -> Iterator[tuple[str, int, str]]:
    import redis

    suite = urlsplit(os.environ["REDIS_URL"])
    # A Redis database of the stack's own: no other test's queue or lock is in it.
    url = f"redis://{suite.hostname}:{suite.port}/14"
    redis.Redis.from_url(url).flushdb()
    yield suite.hostname or "127.0.0.1", suite.port or 6379, "/14"
    redis.Redis.from_url(url).flushdb()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, stack: Stack) -> Any:
    """Until ``condition`` holds, failing at once if a service of the stack exited."""
    return wait_until(
        condition, timeout, what, interval=0.2, meanwhile=stack.assert_running, explain=stack.report
    )


NOFOLLOW_PAGE = """<!doctype html><html><head><title>Best trail shoes</title></head>
<body><article><p>We ran 400 km in these: <a href="{target}" rel="nofollow">trail shoes</a>
that last.</p></article></body></html>"""


@pytest.mark.integration
def test_the_compose_stack_runs_a_users_day(tmp_path, fresh_database, stack_redis, smtp_sink):
    started = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    site = TestSite()
    target_url = site.page("/shop/trail-shoes", "<html><title>Trail shoes</title></html>")
    source_url = site.page("/reviews/shoes", NOFOLLOW_PAGE.format(target=target_url))
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    password = secrets.token_urlsafe(16)
    dotenv = tmp_path / ".env"
    write_dotenv(
        dotenv,
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"https://127.0.0.1:{web_port}",
            # The suite's PostgreSQL trusts loopback logins: any password passes.
            "POSTGRES_PASSWORD": "compose-test",
            "EMAIL_URL": f"smtp://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{smtp_sink.port}",
            "DEFAULT_FROM_EMAIL": "Anchorage <alerts@agency.example>",
            # As docs/reverse-proxy.md says: the test is the TLS proxy.
            "BEHIND_TLS_PROXY": "1",
            # The source pages are on this machine's loopback.
            "VERIFIER_ALLOW_PRIVATE_NETWORKS": "1",
        },
    )
    servers = {"postgres": fresh_database, "redis": stack_redis}
    stack = build_stack(tmp_path / "stack", dotenv, servers, web_port)
    built_after = time.monotonic() - started
    try:
        stack.up(timeout=STACK_DEADLINE)
        up_after = time.monotonic() - started
        _users_day(stack, base, password, source_url, target_url, smtp_sink, fresh_database)
    finally:
        stack.down()
        site.close()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    print(
        f"copies built in {built_after:.1f} s, stack up in {up_after:.1f} s,"
        f" whole day in {time.monotonic() - started:.1f} s, {cpu_seconds:.0f} s of CPU"
    )
    print(stack.timeline())


def _users_day(
    stack: Stack,
    base: str,
    password: str,
    source_url: str,
    target_url: str,
    sink: SmtpSink,
    database: tuple[str, int, str],
) -> None:
    web = stack.services["web"]
    # Every app service received .env's settings, not only `environment`'s.
    for service in stack.services.values():
        assert service.env["VERIFIER_ALLOW_PRIVATE_NETWORKS"] == "1"
        assert service.env["OUTREACH_POLL_BATCH"] == "200"  # from .env.example, via env_file

    # `docker compose exec web python manage.py shell`: the first admin, a campaign,
    # and the digest every second instead of every 5 minutes (admin: Periodic tasks).
    setup = web.run(
        [
            "python",
            "manage.py",
            "shell",
            "-c",
            f"""
from campaigns.models import Campaign, Role, TargetPage, User
from django_celery_beat.models import IntervalSchedule, PeriodicTask
admin = User.objects.create_user("ops", "ops@agency.example", {password!r}, role=Role.ADMIN)
campaign = Campaign.objects.create(name="Trail shoes", slug="trail", site="127.0.0.1", owner=admin)
page = TargetPage.objects.create(campaign=campaign, url={target_url!r}, title="Trail shoes")
digest = PeriodicTask.objects.get(task="links.tasks.send_alert_digests")
digest.interval = IntervalSchedule.objects.create(every=1, period="seconds")
digest.save()
print(campaign.pk, page.pk)
""",
        ],
        timeout=60,
    )
    assert setup.returncode == 0, setup.stderr
    campaign_id, page_id = setup.stdout.splitlines()[-1].split()

    https = base.replace("http://", "https://")
    browser = Browser(base)

    # Log in on gunicorn.
    assert browser.get("/accounts/login/").status_code == 200
    response = browser.post("/accounts/login/", {"username": "ops", "password": password})
    assert response.status_code == 200
    assert "/accounts/login/" not in response.url, response.text
    assert "sessionid" in browser.cookies

    # Import a CSV: web saves the upload in the media volume...
    csv = "URL,Email\nhttps://blog-one.example/,ed@blog-one.example\n"
    csv += "https://blog-two.example/,not-an-email\nhttps://blog-three.example/,jo@blog-three.example\n"
    browser.get("/imports/new/")
    response = browser.post(
        "/imports/new/",
        {"campaign": campaign_id, "target": "prospects", "kind": "blogger"},
        files={"file": ("prospects.csv", csv.encode(), "text/csv")},
    )
    match = re.search(r"/imports/(\d+)/mapping/$", response.url)
    assert match, response.text[-2000:]
    job = match[1]
    response = browser.post(f"/imports/{job}/mapping/", {"col_0": "url", "col_1": "contact_email"})
    assert response.url.endswith(f"/imports/{job}/preview/"), response.text[-2000:]
    response = browser.post(f"/imports/{job}/confirm/", {})
    assert response.url.endswith(f"/imports/{job}/"), response.text[-2000:]

    host, port, name = database
    dsn = f"postgresql://anchorage@{host}:{port}/{name}"
    with psycopg.connect(dsn, autocommit=True) as db:

        def one(sql: str, *params: Any) -> Any:
            return db.execute(sql, params).fetchone()

        # ...bulk-worker reads it there and writes the rejected rows, which web serves.
        wait_for(
            lambda: one("SELECT state FROM outreach_importjob WHERE id = %s", job)[0] == "done",
            45,
            "the import on bulk-worker",
            stack,
        )
        assert "outreach.tasks.run_import[" in stack.services["bulk-worker"].log()
        assert "outreach.tasks.run_import[" not in stack.services["worker"].log()
        (imported,) = one(
            "SELECT count(*) FROM outreach_prospect WHERE campaign_id = %s", campaign_id
        )
        assert imported == 2
        rejected = browser.get(f"/imports/{job}/rejected.csv")
        assert rejected.status_code == 200
        assert "not-an-email" in rejected.text

        # Mark a prospect won: the gevent worker records the link's first check.
        (prospect,) = one(
            "SELECT id FROM outreach_prospect WHERE url LIKE %s", "https://blog-one.example/%"
        )
        browser.get(f"/campaigns/trail/prospects/{prospect}/won/")
        response = browser.post(
            f"/campaigns/trail/prospects/{prospect}/won/",
            {
                "source_url": source_url,
                "target_page": page_id,
                "target_url": "",
                "anchor_text": "trail shoes",
                "cost": "",
                "won_on": datetime.date.today().isoformat(),
            },
        )
        assert response.url.endswith("/campaigns/trail/backlinks/"), response.text[-2000:]
        check = wait_for(
            lambda: one(
                "SELECT c.verdict, c.http_status FROM links_linkcheck c"
                " JOIN links_backlink b ON b.id = c.backlink_id WHERE b.prospect_id = %s",
                prospect,
            ),
            45,
            "the first check",
            stack,
        )
        assert check == ("nofollow", 200)
        assert "links.tasks.check_backlinks[" in stack.services["worker"].log()

    # The nofollow link raised an alert; beat's digest mails it through the worker.
    (mail,) = wait_for(lambda: sink.received_by("ops@agency.example"), 45, "the digest", stack)
    message = mail.message
    assert message["Subject"] == "[Anchorage] Trail shoes: 1 backlink alert"
    assert message["From"] == "Anchorage <alerts@agency.example>"
    body = message.get_content()
    assert "no longer passes value" in body
    assert f"{https}/campaigns/trail/" in body
    assert USER in sink.logins
    stack.assert_running()
