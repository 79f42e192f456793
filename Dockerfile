# syntax=docker/dockerfile:1
# Build: docker build -t ocop-api .
# Migrate (its own step, never at start-up): docker run --rm -e OCOP_DATABASE_URL=... ocop-api ocop migrate
# Serve:  docker run -p 8000:8000 -e OCOP_DATABASE_URL=... ocop-api

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OCOP_ENVIRONMENT=production \
    OCOP_HOST=0.0.0.0 \
    OCOP_PORT=8000
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ocop
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
RUN mkdir -p /app/var && chown ocop /app/var
USER ocop
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["ocop", "serve"]
