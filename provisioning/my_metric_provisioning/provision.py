"""The Datadog side of provisioning: the payloads apply sends, the client, and what a failed call means.

Every call goes through `Provisioner.call`, which answers the JSON Datadog sent (the client is told not to build
models of answers: comparing with what apply sends needs the JSON, and building dashboard models is slow) and turns
every failure into a `ProvisioningError` naming the object, the action and the host.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from datetime import datetime
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import urllib3.exceptions
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import (
    ApiException,
    ApiTypeError,
    ApiValueError,
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)
from datadog_api_client.rest import ClientRetry

from my_metric_provisioning.assets import Assets
from my_metric_provisioning.downtimes import LEAD, catch_up_window, next_start
from my_metric_provisioning.settings import Settings

# Marks what apply made: the monitor's tag, and a bracketed marker in the dashboard and downtime texts.
MANAGED_BY = "managed-by:my-metric-provision"
CATCH_UP = "catch-up"
PERMISSIONS = {
    "dashboard": "dashboards_read and dashboards_write",
    "monitor": "monitors_read and monitors_write",
    "downtime": "monitors_downtime",
    "snapshot": "reading the my_metric metric (graph snapshots need the application key)",
    "event": "posting events (the events intake needs only a valid DD_API_KEY)",
}


class ProvisioningError(Exception):
    """A Datadog call failed; the message says what to check. Never contains key material.

    `maybe_sent`: the request may have reached Datadog and been carried out (a 5xx, a timeout or a reset while
    waiting for the answer), so a create must be looked up before it is sent again.
    """

    maybe_sent = False


# ---------------------------------------------------------------- payloads
def dashboard_payload(assets: Assets) -> dict:
    payload = copy.deepcopy(assets.dashboard)
    payload["description"] = f"{payload.get('description', '')} [{MANAGED_BY}]".strip()
    return payload


def monitor_payload(assets: Assets, settings: Settings) -> dict:
    payload = copy.deepcopy(assets.monitor["definition"])
    payload["message"] = payload.get("message", "").rstrip() + f"\n\nNotify: {settings.notify}"
    payload["tags"] = sorted(set(payload.get("tags", [])) | {MANAGED_BY})
    return payload


def downtime_marker(name: str) -> str:
    return f"[{MANAGED_BY}:{name}]"


def current_time(tz: ZoneInfo) -> datetime:
    return datetime.now(tz)


def downtime_payload(name: str, template: dict, monitor_id, settings: Settings, now: datetime | None = None) -> dict:
    """The stored downtime for this org: each recurrence starts at its first occurrence at or after now + LEAD."""
    payload = copy.deepcopy(template)
    attributes = payload["data"]["attributes"]
    attributes["message"] = f"{attributes.get('message', '')} {settings.notify} {downtime_marker(name)}".strip()
    attributes["monitor_identifier"] = {"monitor_id": monitor_id}
    attributes["display_timezone"] = settings.timezone.key
    schedule = attributes["schedule"]
    schedule["timezone"] = settings.timezone.key
    tz = settings.timezone
    now = now or current_time(tz)
    now = now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)  # naive: local time in the zone
    earliest = (now + LEAD).replace(tzinfo=None)
    for item in schedule["recurrences"]:
        item["start"] = next_start(item["start"], item["rrule"], earliest)
    return payload


def catch_up_payload(template: dict | None, monitor_id, settings: Settings, now: datetime) -> dict | None:
    """A one-time downtime for the night or weekend apply runs in, which the recurrences, all starting
    after apply, no longer cover; None during working hours."""
    window = catch_up_window(now.astimezone(settings.timezone))
    if window is None:
        return None
    start, end = window
    attributes = {
        key: copy.deepcopy(value)
        for key, value in (template or {"data": {"attributes": {"scope": "*"}}})["data"]["attributes"].items()
        if key not in ("message", "schedule")
    }
    attributes["message"] = (
        f"my_metric monitor muted for the rest of the night or weekend in which it was provisioned (until "
        f"{end:%a %Y-%m-%d %H:%M} {settings.timezone.key}). {settings.notify} {downtime_marker(CATCH_UP)}"
    )
    attributes["monitor_identifier"] = {"monitor_id": monitor_id}
    attributes["display_timezone"] = settings.timezone.key
    attributes["schedule"] = {"end": end.isoformat(timespec="seconds")}
    if start is not None:
        attributes["schedule"]["start"] = start.isoformat(timespec="seconds")
    return {"data": {"type": "downtime", "attributes": attributes}}


def desired_payloads(assets: Assets, settings: Settings, monitor_id, now: datetime) -> dict[str, dict | None]:
    """What apply sends for each object, by the name the plan shows; the catch-up downtime is None by day."""
    payloads = {"monitor": monitor_payload(assets, settings), "dashboard": dashboard_payload(assets)}
    for name, template in assets.downtimes.items():
        payloads[f"downtime {name}"] = downtime_payload(name, template, monitor_id, settings, now)
    template = next(iter(assets.downtimes.values()), None)
    payloads[f"downtime {CATCH_UP}"] = catch_up_payload(template, monitor_id, settings, now)
    return payloads


# ---------------------------------------------------------------- client
class NoRetryOfCreates(ClientRetry):
    """The client's retry policy (408, 429, 5xx, X-RateLimit-Reset), except that a POST is retried only after a
    429, which says the request was not carried out: a POST answered with a 5xx or cut off may have created the
    object, so the object is looked up by its marker instead of being sent again."""

    def is_retry(self, method, status_code, has_retry_after=False):
        if method == "POST":
            return bool(self.total) and status_code == 429
        return super().is_retry(method, status_code, has_retry_after)


def configuration(settings: Settings) -> Configuration:
    config = Configuration(host=settings.api_url) if settings.api_url else Configuration()
    if not settings.api_url:
        config.server_variables["site"] = settings.site
    config.api_key["apiKeyAuth"] = settings.api_key
    config.api_key["appKeyAuth"] = settings.app_key
    config.request_timeout = (settings.connect_timeout, settings.read_timeout)
    config.preload_content = False  # answers stay JSON (see the module's docstring)
    config.enable_retry = True
    config.max_retries = settings.max_retries
    # The client's own policy has a backoff floor of 2 s; same retry class, configurable factor.
    # allowed_methods: the methods urllib3 may send again after a connection error during the request
    config.retry_policy = NoRetryOfCreates(
        total=settings.max_retries,
        backoff_factor=settings.retry_backoff,
        allowed_methods=frozenset({"GET", "PUT", "PATCH", "DELETE"}),
    )
    return config


def _explain(exc: ApiException, kind: str, action: str, settings: Settings) -> ProvisioningError:
    status = getattr(exc, "status", None)
    where = settings.api_url or f"api.{settings.site}"
    if isinstance(exc, ForbiddenException) or status == 403:
        text = (
            f"403 Forbidden while trying to {action} the {kind} at {where}. Check that DD_APP_KEY is an "
            f"application key of the same organisation as DD_API_KEY, that its user or scopes allow "
            f"{PERMISSIONS[kind]}, and that --site / DD_SITE is that organisation's site."
        )
    elif isinstance(exc, UnauthorizedException) or status == 401:
        text = (
            f"401 Unauthorized while trying to {action} the {kind} at {where}. "
            "Check DD_API_KEY and DD_APP_KEY, and --site / DD_SITE."
        )
    elif status == 429:
        text = (
            f"429 Too Many Requests while trying to {action} the {kind}, still rate limited after "
            f"{settings.max_retries} retries. Wait a minute and re-run apply: it resumes where it stopped."
        )
    elif status is not None and 400 <= status < 500:
        said = _server_errors(exc)
        text = (
            f"{_status_line(exc)} while trying to {action} the {kind} at {where}"
            f"{f': {said}' if said else ''}. Datadog refused the request itself, so sending it again unchanged "
            "gets the same answer."
        )
        if "past" in said.lower():
            text += " Check this machine's clock: downtimes are anchored a minute after its current time."
    else:
        text = (
            f"{_status_line(exc)} while trying to {action} the {kind} at {where}. "
            f"Re-run the same command: objects already made are found and updated, not duplicated."
        )
    return ProvisioningError(text)


def _server_errors(exc: ApiException, limit: int = 300) -> str:
    """The `errors` list of a Datadog error body (`{"errors": ["..."]}`), on one line; empty if there is none."""
    body = exc.body
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    text = " ".join("; ".join(str(error) for error in errors).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _status_line(exc: ApiException) -> str:
    """`HTTP 502 Bad Gateway`, or `HTTP 502` when the answer's status line has no reason phrase."""
    return f"HTTP {exc.status} {exc.reason or ''}".rstrip()


def _content_type(exc: ApiException) -> str:
    """The answer's Content-Type; the client keeps headers in a plain dict, named as the server spelled them."""
    return next((value for name, value in (exc.headers or {}).items() if name.lower() == "content-type"), "")


def _is_json(exc: ApiException) -> bool:
    return not exc.headers or "json" in _content_type(exc).lower()


def _explain_non_json(exc: ApiException, kind: str, action: str, host: str) -> ProvisioningError:
    content_type = _content_type(exc) or "no type"
    return ProvisioningError(
        f"{_status_line(exc)} from {host} while trying to {action} the {kind}, with a "
        f"{content_type} page instead of the Datadog API's JSON. A proxy, load balancer or web page answered: "
        "check --api-url / --site, or re-run later if it is a gateway error."
    )


def _explain_network(exc: Exception, kind: str, action: str, host: str, settings: Settings) -> ProvisioningError:
    """One or two lines naming the host and the likely cause of a failure to reach or talk to it."""
    reason = getattr(exc, "reason", None) if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
    doing = f"while trying to {action} the {kind}"
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        text = (
            f"cannot resolve the host name {host} {doing}. Check the spelling of --site / DD_SITE or --api-url, "
            "and this machine's DNS and network."
        )
    elif isinstance(reason, urllib3.exceptions.NewConnectionError) and _caused_by(reason, ConnectionRefusedError):
        text = (
            f"{host} refused the connection {doing}: nothing listens on that port. Check --api-url (host and port) "
            "or the proxy in between."
        )
    elif isinstance(reason, urllib3.exceptions.NewConnectionError):
        cause = reason.__cause__ or reason.__context__
        text = (
            f"cannot open a connection to {host} {doing} ({getattr(cause, 'strerror', None) or 'network error'}). "
            "Check this machine's network, firewall and proxy settings."
        )
    elif isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
        text = (
            f"no connection to {host} within the connect timeout of {settings.connect_timeout:g} s {doing}. "
            "A firewall or the network may be dropping traffic; check connectivity or raise --connect-timeout."
        )
    elif isinstance(reason, urllib3.exceptions.ReadTimeoutError):
        text = (
            f"{host} accepted the connection but sent no answer within the read timeout of "
            f"{settings.read_timeout:g} s {doing}. Re-run later, or raise --read-timeout if the link is slow."
        )
    elif isinstance(reason, urllib3.exceptions.SSLError):
        detail = str(reason)
        if "CERTIFICATE_VERIFY_FAILED" in detail:
            cause = (
                "its certificate is not trusted (self-signed, or a TLS-inspecting proxy): check --api-url, "
                "or the proxy's CA"
            )
        elif "WRONG_VERSION_NUMBER" in detail or "record layer" in detail.lower():
            cause = "it does not speak TLS on that port: use an http:// --api-url, or the right port"
        else:
            cause = "check --api-url / --site and any TLS-inspecting proxy"
        text = f"the TLS handshake with {host} failed {doing}: {cause}."
    elif isinstance(reason, (urllib3.exceptions.ProtocolError, ConnectionError)):
        text = (
            f"{host} closed or reset the connection {doing}. A proxy or firewall may be cutting it, or the server "
            "is restarting; re-run the same command (it resumes, nothing is duplicated)."
        )
    else:
        text = f"cannot talk to {host} {doing} ({type(reason).__name__}). Check --api-url / --site and the network."
    return ProvisioningError(text)


def _caused_by(exc: BaseException, kind: type) -> bool:
    return isinstance(exc.__cause__, kind) or isinstance(exc.__context__, kind)


def _explain_unreadable(kind: str, action: str, host: str) -> ProvisioningError:
    return ProvisioningError(
        f"{host} answered the request to {action} the {kind}, but not with the Datadog API's JSON. "
        "It is probably not the Datadog API (a proxy, captive portal or web page): check --api-url / --site."
    )


_NOT_SENT = (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.SSLError)  # NewConnectionError included


def _maybe_sent(exc: Exception) -> bool:
    if isinstance(exc, ApiException):
        return not exc.status or exc.status >= 500 or exc.status == 408
    reason = getattr(exc, "reason", None) if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
    return not isinstance(reason, _NOT_SENT)


class Provisioner:
    """One client for one command: `call` every request through it, under `within_deadline`."""

    def __init__(self, settings: Settings, log=print):
        self.settings = settings
        self.log = log
        self.client = ApiClient(configuration(settings))
        self.host = urlparse(self.client.configuration.host).netloc or self.client.configuration.host
        self._deadline_at: float | None = None
        self._current = ("start", "Datadog call")
        self._given_up = threading.Event()

    def close(self):
        self.client.close()

    def within_deadline(self, operation):
        """Run `operation` and give up after settings.deadline seconds, retries and waits included.

        It runs in a worker thread so that nothing (a slow DNS answer, a retry wait) can hold the command past
        the deadline; once given up, the worker sends no further request.
        """
        self._deadline_at = time.monotonic() + self.settings.deadline
        result: dict = {}

        def work():
            try:
                result["value"] = operation()
            except BaseException as exc:  # handed to the calling thread
                result["error"] = exc

        worker = threading.Thread(target=work, name="my-metric-provision", daemon=True)
        worker.start()
        worker.join(self.settings.deadline)
        if worker.is_alive():
            self._given_up.set()
            raise self._deadline_error()
        if "error" in result:
            raise result["error"]
        return result.get("value")

    def _deadline_error(self) -> ProvisioningError:
        action, kind = self._current
        error = ProvisioningError(
            f"gave up after the deadline of {self.settings.deadline:g} s while trying to {action} the {kind} "
            f"at {self.host} (each attempt: connect timeout {self.settings.connect_timeout:g} s, read timeout "
            f"{self.settings.read_timeout:g} s). Re-run when {self.host} answers: nothing is duplicated."
        )
        error.maybe_sent = True
        return error

    def sleep(self, seconds: float) -> None:
        """Wait, but never past the deadline."""
        if self._deadline_at is not None:
            seconds = min(seconds, max(self._deadline_at - time.monotonic(), 0))
        time.sleep(seconds)

    def call(self, kind, action, function, *args, missing_ok=False, **kwargs):
        """The JSON answer of `function(*args, **kwargs)`; None for an empty answer, or a 404 if `missing_ok`."""
        if self._given_up.is_set():
            raise ProvisioningError(f"stopped before trying to {action} the {kind}: the deadline has passed.")
        self._current = (action, kind)
        if self._deadline_at is not None:
            # An attempt never outlives the deadline; the client reads this before each request.
            left = max(self._deadline_at - time.monotonic(), 0.001)
            connect, read = self.settings.connect_timeout, self.settings.read_timeout
            self.client.configuration.request_timeout = (min(connect, left), min(read, left))
        try:
            answer = function(*args, **kwargs)
            return json.loads(answer.data) if answer.data else None
        except ApiException as exc:
            if missing_ok and isinstance(exc, NotFoundException):
                return None
            if not exc.status and "SSLError" in str(exc.reason):
                # The client turns a TLS failure it sees first-hand into a status-0 ApiException.
                reason = urllib3.exceptions.SSLError(str(exc.reason))
                raise _explain_network(reason, kind, action, self.host, self.settings) from None
            error = _explain_non_json(exc, kind, action, self.host) if exc.status and not _is_json(exc) else None
            error = error or _explain(exc, kind, action, self.settings)
            error.maybe_sent = _maybe_sent(exc)
            raise error from None
        except (ApiTypeError, ApiValueError, ValueError):
            raise _explain_unreadable(kind, action, self.host) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if self._deadline_at is not None and time.monotonic() >= self._deadline_at:
                # The attempt was cut short by the deadline, not by its own timeout: say so.
                raise self._deadline_error() from None
            error = _explain_network(exc, kind, action, self.host, self.settings)
            error.maybe_sent = _maybe_sent(exc)
            raise error from None


def dumps(payload) -> str:
    return json.dumps(payload, indent=2, sort_keys=False)
