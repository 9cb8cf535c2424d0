#!/bin/sh
# The process roles of the image; the same commands run the demo and the tests.
#   web      gunicorn with deploy/gunicorn.conf.py
#   worker   celery -A ebok_platform worker -Q default,syncs
#   beat     celery -A ebok_platform beat
#   migrate  manage.py migrate_schemas (run once before the others start)
#   manage   manage.py <arguments>, e.g. onboard_cooperative --code ODRA --name "…"
set -eu
# Files and folders under /data: the owner and the group "ebok" (the other process
# roles), nobody else. Temporary copies of packages are narrower still (0600/0700).
umask 0007
# The image's /app; APP_HOME runs the same roles from a checkout
# (tests/deploy/test_deployment_rehearsal.py rehearses the deployment that way).
cd "${APP_HOME:-/app}"
role="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi
case "$role" in
    web)
        exec gunicorn ebok_platform.wsgi:application --config deploy/gunicorn.conf.py "$@"
        ;;
    worker)
        exec celery -A ebok_platform worker \
            -Q "${CELERY_DEFAULT_QUEUE:-default},${CELERY_SYNC_QUEUE:-syncs}" \
            --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    beat)
        exec celery -A ebok_platform beat --loglevel "${LOG_LEVEL:-INFO}" \
            -s "${CELERY_BEAT_SCHEDULE_FILE:-/data/celerybeat-schedule}" "$@"
        ;;
    migrate)
        exec python manage.py migrate_schemas "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
