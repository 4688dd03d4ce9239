#!/bin/sh
# The image's entrypoint: `web`, `worker` or `beat` runs that line of the Procfile (the same
# command `make run` starts, so the image and the Procfile cannot drift apart); `migrate`
# applies the migrations (once per deploy, before the new web nodes take traffic: /readyz
# answers 503 until then); anything else runs as a command (`manage.py shell`, `sh`).
set -eu
cd /app
case "${1:-web}" in
  web|worker|beat)
    line=$(sed -n "s/^${1:-web}: //p" Procfile)
    exec sh -c "exec $line"
    ;;
  migrate)
    exec python manage.py migrate --noinput
    ;;
  *)
    exec "$@"
    ;;
esac
