# Production image: migrate, web, the workers and beat all run from it (see
# docker-compose.yml). .dockerignore keeps the checkout's .venv, .git, .env and var/ out.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH" \
    STATIC_ROOT=/app/var/static

# Chromium for the render-worker (script-built pages): Debian's package, which
# Playwright drives; Playwright downloads no browser of its own.
RUN apt-get update && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*
ENV RENDER_CHROMIUM_PATH=/usr/bin/chromium
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE (and a read-only
# /app) every process start, every healthcheck probe included, would otherwise
# compile Django, Celery and the project again (seconds of CPU each).
RUN uv sync --frozen --no-dev --no-install-project --compile-bytecode
COPY . .
RUN python -m compileall -q .
# Static files are part of the image: web starts without a minute of compressing.
# No secret or database is read here; the key only satisfies the settings.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v 0
# var/media exists (owned by the app's user) before compose mounts the media volume
# there, so a new volume starts with that owner instead of root.
RUN useradd --system --create-home anchorage && mkdir -p /app/var/media && chown -R anchorage /app/var
USER anchorage
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--preload"]
