"""The hiring challenge's Flask app, made traceable with ddtrace-run under gunicorn."""

from .__about__ import __version__

__all__ = ["__version__"]
