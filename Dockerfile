# Frontera: one image for the web (gunicorn), the Celery worker and Celery beat.
# Build: docker build -t frontera .   Run: see docker-compose.yml and .env.example.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:${PATH}"

# WeasyPrint needs Pango (and HarfBuzz subsetting) plus fonts; gettext compiles the catalogues.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fontconfig fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

# uv from PyPI, pinned to the version that wrote uv.lock.
RUN pip install "uv==0.13.9"

WORKDIR /app

# Dependencies first, so code changes do not re-install them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev

# Static files and message catalogues are built into the image. The keys below are random,
# exist only inside this RUN step and never reach an image layer's environment: at run time
# the container must be given its own keys (see .env.example) or it refuses to start.
RUN set -eu; \
    newkey() { python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; }; \
    export DEBUG=false DATABASE_URL=sqlite:////tmp/build.sqlite3 \
        SECRET_KEY="build-only-$(newkey)" FIELD_ENCRYPTION_KEYS="k1:$(newkey)" \
        BLIND_INDEX_KEY="$(newkey)" PSEUDONYM_KEY="$(newkey)" CARD_SIGNING_KEY="$(newkey)"; \
    python manage.py collectstatic --noinput; \
    python manage.py compilemessages --ignore=.venv; \
    rm -f /tmp/build.sqlite3

RUN groupadd --system --gid 10001 frontera \
    && useradd --system --uid 10001 --gid frontera --home-dir /app --shell /usr/sbin/nologin frontera \
    && mkdir -p /app/media \
    && chown frontera:frontera /app/media

USER frontera:frontera
EXPOSE 8000

# Worker and beat override this command in docker-compose.yml. Gunicorn's own access log is
# off: django-structlog writes one JSON line per request without IP addresses.
# WEB_CONCURRENCY (read by gunicorn) sets the number of workers.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--timeout", "60", "--graceful-timeout", "30", "--max-requests", "1000", "--max-requests-jitter", "100"]
