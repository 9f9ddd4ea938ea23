"""gunicorn settings of ccas-network, read from the environment (``docs/deployment.md``).

Use it from anywhere, it is installed with the package::

    gunicorn -c python:core.gunicorn_conf core.wsgi:app

Every value can be changed by its variable, or on the command line after ``-c`` (gunicorn
gives the command line the last word): ``CCAS_WEB_BIND`` (``127.0.0.1:8000``),
``CCAS_WEB_WORKERS`` (2 × processors + 1, at most 8), ``CCAS_WEB_THREADS`` (1),
``CCAS_WEB_TIMEOUT`` (60 s: the longest request, a yearly report's PDF),
``CCAS_LOG_LEVEL`` (``INFO``).

Forwarded headers are handled by the application (``core.proxies``, setting
``CCAS_TRUSTED_PROXIES``), the one place that decides whom to believe: gunicorn's own
handling of ``X-Forwarded-Proto`` is switched off here.
"""

from __future__ import annotations

import gc
import multiprocessing
import os

from gunicorn.http import wsgi as _gunicorn_wsgi

bind = os.environ.get("CCAS_WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CCAS_WEB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("CCAS_WEB_THREADS", "1"))
timeout = int(os.environ.get("CCAS_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (bounds slow memory growth).
max_requests = 1000
max_requests_jitter = 100
# The application is built in each worker: no database connection crosses a fork.
preload_app = False

# Logs on standard output/error (journald, docker). The access log shows the client's
# address as the application sees it (after the trusted proxies) and the path without
# its query string (searches may carry names).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CCAS_LOG_LEVEL", "INFO").lower()
access_log_format = '%({REMOTE_ADDR}e)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# core.proxies decides which X-Forwarded-* to believe (CCAS_TRUSTED_PROXIES).
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = "127.0.0.1"

# gunicorn names itself and its version in a ``Server`` header it writes on every answer,
# with no setting to change it: the header is read from this module attribute when each
# response is built (gunicorn 20–27), so the workers forked after this file is read say
# only ``ccas-network`` (no software or version for a scanner to match).
_gunicorn_wsgi.SERVER = "ccas-network"


def post_worker_init(worker) -> None:
    """Once the worker has built the application, move what it holds (modules, mappers,
    templates, plugins: most of a worker's 155 MB) out of the garbage collector's reach:
    the collector's full passes then walk only what requests allocate. Measured on the
    partner portal's page (500 rows), PostgreSQL, 300 requests: the slowest request
    133 ms → 23 ms, p50 unchanged (``docs/performance.md``)."""
    gc.collect()
    gc.freeze()
