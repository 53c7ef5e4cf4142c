#!/bin/sh
# Keeps requests flowing to every route of the demo app so the APM widgets have data,
# including the 404, database and deliberate-error paths.
base="${FLASK_DEMO_URL:-http://flask_demo:5050}"
while true; do
    for path in / /api/apm /api/trace /api/db /api/error /missing; do
        curl --silent --output /dev/null --max-time 5 "$base$path" || true
    done
    sleep "${TRAFFIC_INTERVAL_SECONDS:-1}"
done
