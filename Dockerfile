# The field enforcement service: migrations, then gunicorn serving server:create_app().
# Everything it keeps (SQLite file, attachments, generated SECRET_KEY) is under /data.
# Run the scheduler as a second container from the same image and the same /data volume:
#   docker run ... IMAGE flask --app server scheduler run
# The inspectors' field app, built with npm from its lock file; only its output is kept.
FROM node:20-slim AS field
WORKDIR /src
COPY client_schema ./client_schema
COPY field/package.json field/package-lock.json ./field/
RUN cd field && npm ci --no-audit --no-fund
COPY field ./field
RUN cd field && npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLASK_APP=server \
    INSTANCE_PATH=/data \
    ATTACHMENTS_DIR=/data/attachments \
    FIELD_APP_DIR=/app/field \
    BIND=0.0.0.0:8000

# A CJK font so printed documents and gate posters embed their Chinese text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
RUN pip install .

# Run from a folder without the source, so the installed package is the one imported.
WORKDIR /app
COPY gunicorn.conf.py ./
COPY --from=field /src/field/dist ./field
RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown app /data
USER app
VOLUME ["/data"]
EXPOSE 8000

# The orchestrator (or `docker ps`) sees a host that stopped answering or lost its database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# Migrations run before the web workers start; both are idempotent. Without DATABASE_URL
# the database is /data/fieldenforce.db; without SECRET_KEY one is generated into /data
# (on PostgreSQL SECRET_KEY must be given, the same on every host).
CMD ["sh", "-c", "flask db upgrade && exec gunicorn --config gunicorn.conf.py 'server:create_app()'"]
