# haruchat: the API, the web app and the embedded model in one image.
# docker build -t haruchat . ; see compose.yaml and docs/deploy.md.

# --- the web app, built to static files ---------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# --- llama-cpp-python compiled once, in its own cached layer --------------------
FROM python:3.11-slim-bookworm AS llama
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
# Built for any x86-64 with AVX2, not for the build machine's CPU: the image
# runs elsewhere, and a native build uses AMX where a CPU reports it, which
# crashes on virtual machines that cannot run it (see the Makefile).
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF" pip wheel --no-deps --wheel-dir /wheels llama-cpp-python==0.3.36

# --- the Python environment ---------------------------------------------------
FROM python:3.11-slim-bookworm AS python
RUN python -m venv /venv
COPY --from=llama /wheels /wheels
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir --find-links /wheels -r /tmp/requirements.txt

# --- the image that runs --------------------------------------------------------
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 haruchat
COPY --from=python /venv /venv
WORKDIR /app
COPY backend/ backend/
COPY --from=web /src/frontend/dist frontend/dist
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HARUCHAT_ENV=production \
    HARUCHAT_VAR_DIR=/app/var \
    HARUCHAT_WEB_APP_DIR=/app/frontend/dist
# Static files are collected at build time (the key here is only for this step).
RUN DJANGO_SECRET_KEY=build-only-not-secret DJANGO_ALLOWED_HOSTS=localhost \
    python backend/manage.py collectstatic --noinput -v0 \
    && mkdir -p var && chown -R haruchat var
USER haruchat
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health/live')"
# Migrations run before the server starts (with several replicas, run them once
# by hand instead: docs/deploy.md); WEB_CONCURRENCY processes serve.
CMD ["sh", "-c", "python backend/manage.py migrate --noinput && exec uvicorn config.asgi:application --app-dir backend --host 0.0.0.0 --port 8000 --loop asyncio --workers ${WEB_CONCURRENCY:-2} --no-proxy-headers"]
