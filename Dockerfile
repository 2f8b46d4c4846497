# syntax=docker/dockerfile:1
# The production image: migrations, then uvicorn behind a load balancer.
#   docker build -t demarche .
#   docker run -p 8000:8000 -e DEMARCHE_DATABASE_URL=postgresql+psycopg://user@db/demarche \
#     -e DEMARCHE_CURSOR_SECRET=... -e FORWARDED_ALLOW_IPS=<load balancer addresses> demarche
# tests/deploy/test_container.py runs this file's CMD and HEALTHCHECK outside a container.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY clients/python ./clients/python
COPY app ./app
# The runtime dependencies only, at the versions pinned in constraints.txt; the client (which
# the import and export commands use) from this repository, as no package index has it.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt ./clients/python .

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /srv --no-create-home demarche
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY alembic.ini ./
COPY migrations ./migrations
# The guide for callers, which the server serves at /guide.
COPY docs ./docs
# Where the SQLite default (sqlite:///var/demarche.db) lives; production names PostgreSQL.
RUN mkdir var && chown 10001 var
# Production settings: anonymous reads are off; uvicorn trusts X-Forwarded-* only from
# FORWARDED_ALLOW_IPS; DEMARCHE_RATE_LIMIT_STORAGE=redis://... shares rate limits between replicas.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEMARCHE_HOST=0.0.0.0 \
    DEMARCHE_PORT=8000 \
    DEMARCHE_PUBLIC_READ=false \
    FORWARDED_ALLOW_IPS=127.0.0.1
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['DEMARCHE_PORT']}/healthz\", timeout=2)"]
# One worker process per core (anonymous reads being off; DEMARCHE_WORKERS says otherwise),
# each taking at most 200 connections at once (more answer 503); idle keep-alive connections
# closed after 5 s, 20 s for requests in flight to finish on SIGTERM; slow clients are bounded
# as app/serving.py says (DEMARCHE_HEADER_TIMEOUT_SECONDS and the settings beside it).
# `demarche migrate` takes a lock: replicas started together migrate once.
CMD ["sh", "-c", "demarche migrate && exec demarche serve --host \"$DEMARCHE_HOST\" --port \"$DEMARCHE_PORT\" --proxy-headers --limit-concurrency 200 --backlog 256 --timeout-keep-alive 5 --timeout-graceful-shutdown 20"]
