# The field enforcement service: gunicorn serving server:create_app().
# Run the scheduler as a second container from the same image:
#   docker run ... IMAGE flask --app server scheduler run
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLASK_APP=server \
    ATTACHMENTS_DIR=/data/attachments \
    BIND=0.0.0.0:8000

# A CJK font so printed documents and gate posters embed their Chinese text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
RUN pip install .
COPY gunicorn.conf.py ./

RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown app /data
USER app
VOLUME ["/data"]
EXPOSE 8000

# Migrations run before the web workers start; both are idempotent.
CMD ["sh", "-c", "flask db upgrade && exec gunicorn --config gunicorn.conf.py 'server:create_app()'"]
