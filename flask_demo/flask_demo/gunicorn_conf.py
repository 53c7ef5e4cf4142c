"""gunicorn settings, read from the environment so the same command serves tests, Docker and the bench.

FLASK_DEMO_HOST (default 127.0.0.1), FLASK_DEMO_PORT (default 5050), FLASK_DEMO_WORKERS (default 2),
FLASK_DEMO_ACCESS_LOG=1 to log every request to stdout.
"""

import os

bind = f"{os.environ.get('FLASK_DEMO_HOST', '127.0.0.1')}:{os.environ.get('FLASK_DEMO_PORT', '5050')}"
workers = int(os.environ.get("FLASK_DEMO_WORKERS", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 5
# gunicorn >= 25 otherwise opens a control socket under ~/.gunicorn.
control_socket_disable = True
accesslog = "-" if os.environ.get("FLASK_DEMO_ACCESS_LOG") == "1" else None
errorlog = "-"
