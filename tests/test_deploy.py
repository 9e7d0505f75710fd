"""Production configuration: `check --deploy` is clean under production settings,
and the compose file describes the stack DESIGN.md names."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import yaml

from tests.support.processes import environment, run_python

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The suite's own relaxations (plain HTTP, Playwright's event loop) are
        # not production's.
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_", "DEBUG", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="links.agency.example",
        DEBUG="0",
        **extra,
    )
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_python("manage.py", *args, env=env, check=False, timeout=120)


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    # An empty VAR_DIR: no development settings from a `make run` in this checkout.
    env = production_env(VAR_DIR=str(tmp_path))
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked():
    env = production_env()
    del env["DEBUG"]
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env=env,
    )
    assert result.stdout.strip() == "False", result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("from-a-file-" + secrets.token_urlsafe(40))
    env = production_env(SECRET_KEY_FILE=str(key_file))
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY[:12])",
        env=env,
    )
    assert result.stdout.strip() == "from-a-file-", result.stderr


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_names_the_production_services():
    services = compose()["services"]
    assert set(services) >= {"postgres", "redis", "web", "worker", "beat"}
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert "SECRET_KEY" in env or "SECRET_KEY_FILE" in env


def test_compose_migrates_before_web_runs_gunicorn_with_static_files_from_the_image():
    services = compose()["services"]
    assert "migrate" in " ".join(services["migrate"]["command"])
    web = services["web"]
    migrated = {"condition": "service_completed_successfully"}
    assert web["depends_on"]["migrate"] == migrated
    command = " ".join(web["command"]) if isinstance(web["command"], list) else web["command"]
    assert "manage.py collectstatic" in (ROOT / "Dockerfile").read_text()
    assert "gunicorn config.wsgi" in command
    assert "healthcheck" in web


def test_compose_worker_can_scale_and_beat_runs_the_database_scheduler():
    services = compose()["services"]
    worker, beat = services["worker"], services["beat"]
    # --scale worker=N fails when a service pins a container name or a host port.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "celery -A config worker" in " ".join(worker["command"])
    assert "celery -A config beat" in " ".join(beat["command"])


def test_compose_keeps_postgres_data_in_a_volume_and_checks_health():
    data = compose()
    postgres = data["services"]["postgres"]
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in data["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "redis-cli" in " ".join(data["services"]["redis"]["healthcheck"]["test"])


def test_dockerfile_builds_from_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile
    assert "FROM python:3.11" in dockerfile


def test_the_image_compiles_its_bytecode_when_it_is_built():
    """The image sets PYTHONDONTWRITEBYTECODE, so whatever the build leaves
    uncompiled is compiled again by every process and healthcheck probe."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev --no-install-project --compile-bytecode" in dockerfile
    assert "RUN python -m compileall -q ." in dockerfile


def test_make_venv_leaves_the_packages_compiled():
    """A process that may not write bytecode compiles none of the packages it
    imports: make venv (which built this .venv for make test) compiled them."""
    probe = """
import importlib.machinery, json, sys

compiled = []
compile_source = importlib.machinery.SourceFileLoader.source_to_code

def recording(loader, data, path, *args, **kwargs):
    compiled.append(str(path))
    return compile_source(loader, data, path, *args, **kwargs)

importlib.machinery.SourceFileLoader.source_to_code = recording
import bs4, celery, django.db.models, django.template, lxml.html, psycopg, requests
print(json.dumps([path for path in compiled if path.startswith(sys.prefix)]))
"""
    result = run_python("-c", probe, env=environment({"PYTHONDONTWRITEBYTECODE": "1"}))
    assert json.loads(result.stdout) == []


def test_healthz_answers_on_any_host_without_redirect(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["links.agency.example"]
    response = client.get("/healthz/live", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_imports_run_on_their_own_queue_which_compose_and_make_run_consume(settings):
    from outreach.tasks import run_import

    queue = settings.CELERY_TASK_ROUTES[run_import.name]["queue"]
    services = compose()["services"]
    assert queue in services["bulk-worker"]["command"]
    assert queue not in services["worker"]["command"]  # checks never wait behind an import
    assert f"--queues celery,{queue}" in (ROOT / "scripts" / "run.sh").read_text()
