# The desk's one image: web, worker or beat by its command (the Procfile's three processes).
#   docker build -t aftersales-desk .
#   docker run ... aftersales-desk web | worker | beat | migrate
# Configuration is the environment (README "Configuration", "Production").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/var/lib/desk \
    STATIC_ROOT=/app/staticfiles \
    BIND=0.0.0.0:8000

WORKDIR /app
# The runtime dependencies only (pyproject's [project] dependencies, no dev extras: no test
# runner, moto or browser driver in production), at the versions requirements.lock pins.
# Installed before the code is copied, so a code change does not reinstall them.
COPY requirements.lock pyproject.toml ./
RUN pip install -c requirements.lock . \
    && pip uninstall -y aftersales-desk
COPY . .
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin desk \
    && mkdir -p "$VAR_DIR" && chown desk:desk "$VAR_DIR" && chmod 0700 "$VAR_DIR"
# The static files' manifest is built into the image (with DEBUG=0 every page names its
# files through it), in STATIC_ROOT outside VAR_DIR, so a volume mounted on VAR_DIR does not
# hide it; read-only to the desk user. A throwaway key, and a throwaway VAR_DIR: loading the
# settings makes the SQLite file and the cache folder there, which would otherwise stay in
# the image's VAR_DIR (an empty desk.sqlite3 a process without DATABASE_URL would use).
RUN scratch="$(mktemp -d)" \
    && VAR_DIR="$scratch" DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret-0000000000000000000000 \
    python manage.py collectstatic --noinput \
    && rm -rf "$scratch"

USER desk
EXPOSE 8000
ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["web"]
