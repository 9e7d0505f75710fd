"""A newcomer's first minutes, run for real in a copy of the checkout: `make run`
brings up the dashboard with its demo, the README's management commands work as
printed without exporting anything, the demo mailbox delivers an outreach email
to make run's SMTP sink, and the Makefile works on a machine without uv."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from config.env import load_development_env
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.integration

# Blocks name lookups in the commands the tests run, so the README's example
# URLs (reserved .example names) never reach a DNS server: the fetcher then
# reports the lookup error as its verdict, which is all these tests need.
NO_DNS = """
import socket
_real = socket.getaddrinfo
def _no_dns(host, *args, **kwargs):
    text = host.decode() if isinstance(host, bytes) else str(host or "")
    try:
        import ipaddress
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, "name lookups are off in this test")
    return _real(host, *args, **kwargs)
socket.getaddrinfo = _no_dns
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copy_checkout(target: Path) -> Path:
    """The tracked and untracked-but-not-ignored files, as a fresh clone has them,
    with this checkout's virtualenv (and uv, when the Makefile installed it) linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        name = raw.decode()
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    if (ROOT / ".tools").exists():
        (target / ".tools").symlink_to(ROOT / ".tools")
    return target


def newcomer_env(tmp: Path) -> dict[str, str]:
    """The environment of someone who just cloned: none of the suite's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "STATIC_ROOT",
            "DJANGO_SETTINGS_MODULE",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    hooks = tmp / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(NO_DNS)
    env["PYTHONPATH"] = str(hooks)
    return env


@dataclass
class RunningDemo:
    checkout: Path
    url: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    log: Path

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [".venv/bin/python", "manage.py", *args],
            cwd=self.checkout,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.ConnectionError:
        return False


def tail(log: Path) -> Callable[[], str]:
    return lambda: log.read_text(errors="replace")[-3000:] if log.exists() else ""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    tmp = tmp_path_factory.mktemp("fresh")
    checkout = copy_checkout(tmp_path_factory.mktemp("checkout"))
    env = newcomer_env(tmp)
    port, sink_port = free_port(), free_port()
    log = tmp / "make-run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=checkout,
            env={**env, "PORT": str(port), "MAIL_SINK_PORT": str(sink_port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    running = RunningDemo(checkout, f"http://127.0.0.1:{port}", env, process, log)

    def still_running() -> None:
        # A `make run` that stopped will not come up later: say so now, not in 3 minutes.
        if process.poll() is not None:
            raise AssertionError(f"make run exited with {process.returncode}\n{tail(log)()}")

    try:
        wait_until(
            lambda: "Anchorage is running" in log.read_text(),
            180,
            "make run",
            interval=0.2,
            explain=tail(log),
            meanwhile=still_running,
        )
        wait_until(
            lambda: answers(f"{running.url}/healthz"),
            120,
            "the web server",
            interval=0.2,
            explain=tail(log),
            meanwhile=still_running,
        )
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def demo_login(demo: RunningDemo, username: str) -> requests.Session:
    logins = dict(
        line.split(": ", 1)
        for line in (demo.checkout / "var/demo-logins.txt").read_text().splitlines()
    )
    session = requests.Session()
    page = session.get(f"{demo.url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{demo.url}/accounts/login/",
        data={"username": username, "password": logins[username], "csrfmiddlewaretoken": token},
        headers={"Referer": f"{demo.url}/accounts/login/"},
        timeout=10,
    )
    assert answer.ok, answer.text[:500]
    assert "/accounts/login/" not in answer.url
    return session


def test_make_run_serves_the_demo_campaign_to_its_printed_logins(demo):
    session = demo_login(demo, "manager")
    campaigns = session.get(f"{demo.url}/", timeout=10)
    assert "Acme running shoes" in campaigns.text
    assert (demo.checkout / "var/anchorage.sqlite3").exists()


def test_make_run_starts_a_consuming_worker_and_beat(demo):
    wait_until(
        lambda: "ready." in demo.log.read_text() and "beat: Starting" in demo.log.read_text(),
        60,
        "the worker and beat",
        interval=0.2,
        explain=tail(demo.log),
    )


def readme_manage_commands() -> list[str]:
    """Every `manage.py` line of the README's shell blocks, as printed."""
    readme = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith(".venv/bin/python manage.py"):
                commands.append(line.split("   #", 1)[0].strip())
    return commands


def test_the_readme_shows_management_commands():
    assert any("verify_url" in command for command in readme_manage_commands())


def test_readme_management_commands_run_as_printed_after_make_run(demo):
    for command in readme_manage_commands():
        result = subprocess.run(
            shlex.split(command),
            cwd=demo.checkout,
            env=demo.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "SECRET_KEY" not in result.stderr, command


def test_verify_url_prints_its_json_without_any_exported_setting(demo):
    result = demo.manage(
        "verify_url", "https://blog.example/post", "https://ours.example/", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert '"verdict": "error"' in result.stdout  # the lookup is refused in this test


def test_the_demo_mailbox_delivers_a_sequence_to_make_runs_sink(demo):
    started = demo.manage(
        "shell",
        "-c",
        "from campaigns.models import Campaign\n"
        "from outreach.email.models import EmailTemplate, Mailbox\n"
        "from outreach.email import sequences\n"
        "from outreach.email.tasks import send_due_emails\n"
        "from outreach.models import Prospect\n"
        "campaign = Campaign.objects.get(slug='demo')\n"
        "prospect = Prospect.objects.filter(campaign=campaign, status='qualified')"
        ".exclude(contact_email='').order_by('pk').first()\n"
        "result = sequences.start_sequences(campaign, prospect_ids=[prospect.pk],"
        " template=EmailTemplate.objects.get(campaign=campaign, name='Resource page pitch'),"
        " mailbox=Mailbox.objects.get(email='outreach@acme-shoes.example'), by=None)\n"
        "assert result.started, result.blocked\n"
        "send_due_emails.delay()\n"
        "print(prospect.contact_email)",
    )
    assert started.returncode == 0, started.stdout + started.stderr
    recipient = started.stdout.strip().splitlines()[-1]
    sent = demo.checkout / "var/sent-mail"
    wait_until(
        lambda: any(recipient in p.read_text(errors="replace") for p in sent.glob("*.eml")),
        90,
        "the outreach email in var/sent-mail/",
        interval=0.2,
        explain=tail(demo.log),
    )
    (email,) = [p for p in sent.glob("*.eml") if recipient in p.read_text(errors="replace")]
    assert "Subject: A running resource for" in email.read_text()


def test_development_settings_are_read_only_without_a_secret_key(tmp_path, monkeypatch):
    dev = tmp_path / "dev.env"
    dev.write_text("# comment\nSECRET_KEY=from-dev-env\nDEBUG=1\n")
    monkeypatch.setenv("SECRET_KEY", "given")
    monkeypatch.delenv("DEBUG", raising=False)
    assert load_development_env(dev) is False
    assert "DEBUG" not in os.environ

    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("DEBUG", "0")  # what the environment says wins
    assert load_development_env(dev) is True
    assert os.environ["SECRET_KEY"] == "from-dev-env"
    assert os.environ["DEBUG"] == "0"


# -- A machine without uv ------------------------------------------------------------


def path_without_uv(tmp: Path) -> str:
    """A PATH holding only the programs the Makefile needs, and no uv."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    for program in ("make", "bash", "sh", "ln", "mkdir", "env", "cat", "git"):
        found = shutil.which(program)
        if found:
            (bin_dir / program).symlink_to(found)
    # The interpreter itself, not a version manager's shim that needs its own PATH.
    (bin_dir / "python3").symlink_to(Path(sys.base_prefix) / "bin/python3")
    return str(bin_dir)


def real_uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools/bin/uv")
    if not Path(found).exists():
        pytest.skip("no uv on this machine to stand for the bootstrapped one")
    return str(Path(found).resolve())


def test_without_uv_the_makefile_installs_it_with_pip_into_tools(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy2(ROOT / "Makefile", checkout / "Makefile")
    plan = subprocess.run(
        ["make", "-n", "venv"],
        cwd=checkout,
        env={"PATH": path_without_uv(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "python3 -m pip install --quiet --target .tools/lib uv" in plan
    assert ".tools/bin/uv sync --frozen" in plan


def test_make_lint_passes_with_the_bootstrapped_uv_in_the_tree(tmp_path):
    """What the bootstrap leaves behind (uv's own Python files under .tools/lib)
    is neither linted nor tracked."""
    checkout = copy_checkout(tmp_path / "checkout")
    tools = checkout / ".tools"
    tools.unlink(missing_ok=True)
    (tools / "lib/uv").mkdir(parents=True)
    # Like uv's own package files: not written to this project's lint rules.
    (tools / "lib/uv/__init__.py").write_text("import os, sys\ndef find_uv_bin(): return  1\n")
    (tools / "bin").mkdir()
    (tools / "bin/uv").symlink_to(real_uv())
    subprocess.run(["git", "init", "-q"], cwd=checkout, check=True)
    result = subprocess.run(
        ["make", "lint"],
        cwd=checkout,
        env={
            "PATH": path_without_uv(tmp_path),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache/uv")),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ignored = subprocess.run(
        ["git", "status", "--porcelain", "--", ".tools"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ignored == ""


# Last in the module: it stops the demo the tests above share.
def test_ctrl_c_stops_everything_make_run_started(demo):
    os.killpg(demo.process.pid, signal.SIGINT)
    demo.process.wait(timeout=30)
    with pytest.raises(ProcessLookupError):
        os.killpg(demo.process.pid, 0)  # nothing of the group is left running
