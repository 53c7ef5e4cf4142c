"""Log format that carries the trace and span ids ddtrace injects into every record.

ddtrace-run patches ``logging`` so each record gets ``dd.trace_id``, ``dd.span_id``,
``dd.service``, ``dd.env`` and ``dd.version`` attributes. Without the tracer (the untraced
benchmark baseline) those attributes are absent, so a filter fills neutral defaults instead
of letting the formatter raise KeyError.
"""

import logging
import sys

LOG_FORMAT = (
    "%(asctime)s %(levelname)s [%(name)s] "
    "[dd.service=%(dd.service)s dd.env=%(dd.env)s dd.version=%(dd.version)s "
    "dd.trace_id=%(dd.trace_id)s dd.span_id=%(dd.span_id)s] %(message)s"
)

_CORRELATION_DEFAULTS = {
    "dd.trace_id": "0",
    "dd.span_id": "0",
    "dd.service": "",
    "dd.env": "",
    "dd.version": "",
}


class CorrelationDefaults(logging.Filter):
    """Give records the dd.* attributes the format needs when the tracer did not add them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CORRELATION_DEFAULTS.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Send the root logger to stdout with trace correlation ids; idempotent."""
    root = logging.getLogger()
    if any(getattr(h, "_flask_demo", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(CorrelationDefaults())
    handler._flask_demo = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
