"""The supplied challenge app, its three routes unchanged, plus a database and an error route.

Instrumentation comes only from ``ddtrace-run`` (see ``flask_demo.serve``); nothing here
imports or patches ddtrace.
"""

import logging

import pymysql
from flask import Flask, jsonify

from .db import DatabaseSettings, database_summary
from .logging_setup import configure_logging

configure_logging()
log = logging.getLogger("flask_demo")

app = Flask(__name__)


@app.route("/")
def api_entry():
    log.info("entrypoint called")
    return "Entrypoint to the Application"


@app.route("/api/apm")
def apm_endpoint():
    log.info("apm endpoint called")
    return "Getting APM Started"


@app.route("/api/trace")
def trace_endpoint():
    log.info("trace endpoint called")
    return "Posting Traces"


@app.route("/api/db")
def db_endpoint():
    settings = DatabaseSettings.from_env()
    try:
        summary = database_summary(settings)
    except (pymysql.MySQLError, OSError) as exc:
        log.warning("database %s:%s unavailable: %s", settings.host, settings.port, exc)
        return jsonify(error="database unavailable", database=f"{settings.host}:{settings.port}", detail=str(exc)), 503
    log.info("database answered: %s", summary)
    return jsonify(summary)


class DeliberateError(RuntimeError):
    """Raised by /api/error so the exception path can be traced and tested."""


@app.route("/api/error")
def error_endpoint():
    log.info("error endpoint called; raising on purpose")
    raise DeliberateError("deliberate failure to exercise the error path")
