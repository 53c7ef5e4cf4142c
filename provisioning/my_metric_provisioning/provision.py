"""The Datadog side of provisioning: the payloads apply sends, the client, and what a failed call means. Every call
goes through `Provisioner.call`, which answers the JSON Datadog sent (comparing with what apply sends needs the JSON,
and building dashboard models is slow) and turns every failure into a `ProvisioningError` naming host and cause."""

import copy
import json
import threading
import time
from datetime import datetime
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, ApiTypeError, ApiValueError, NotFoundException
from datadog_api_client.rest import ClientRetry
from urllib3 import exceptions as net

from my_metric_provisioning.assets import Assets
from my_metric_provisioning.downtimes import LEAD, catch_up_window, next_start
from my_metric_provisioning.settings import ProvisioningError, Settings

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


def catch_up_payload(template: dict, monitor_id, settings: Settings, now: datetime) -> dict | None:
    """A one-time downtime, like `template` (a stored downtime), for the night or weekend apply runs in, which the
    recurrences, all starting after apply, no longer cover; None during working hours."""
    window = catch_up_window(now.astimezone(settings.timezone))
    if window is None:
        return None
    start, end = window
    payload = copy.deepcopy(template)
    attributes = payload["data"]["attributes"]
    attributes["message"] = (
        f"my_metric monitor muted for the rest of the night or weekend in which it was provisioned (until "
        f"{end:%a %Y-%m-%d %H:%M} {settings.timezone.key}). {settings.notify} {downtime_marker(CATCH_UP)}"
    )
    attributes["monitor_identifier"] = {"monitor_id": monitor_id}
    attributes["display_timezone"] = settings.timezone.key
    attributes["schedule"] = {"end": end.isoformat(timespec="seconds")}
    if start is not None:
        attributes["schedule"]["start"] = start.isoformat(timespec="seconds")
    return payload


def desired_payloads(assets: Assets, settings: Settings, monitor_id) -> dict[str, dict | None]:
    """What apply sends now for each object, by the name the plan shows; the catch-up downtime is None by day."""
    now = current_time(settings.timezone)
    payloads = {"monitor": monitor_payload(assets, settings), "dashboard": dashboard_payload(assets)}
    for name, template in assets.downtimes.items():
        payloads[f"downtime {name}"] = downtime_payload(name, template, monitor_id, settings, now)
    template = next(iter(assets.downtimes.values()))
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
    config.enable_retry, config.max_retries = True, settings.max_retries
    # The client's own policy has a backoff floor of 2 s. allowed_methods: those urllib3 may send again after a
    # connection error during the request.
    config.retry_policy = NoRetryOfCreates(
        total=settings.max_retries,
        backoff_factor=settings.retry_backoff,
        allowed_methods=frozenset({"GET", "PUT", "PATCH", "DELETE"}),
    )
    return config


NOT_THE_API = "A proxy, captive portal or web page answered, not the Datadog API: check --api-url / --site"
# A network failure: (what urllib3 raised, the cause, what to check); the first that matches counts. A
# NameResolutionError is a NewConnectionError, which is a ConnectTimeoutError: hence the order.
NETWORK_FAILURES = (  # {s}: the settings
    (net.NameResolutionError, "cannot resolve the host name", "Check --site / DD_SITE or --api-url"),
    (net.NewConnectionError, "cannot connect ({why})", "Check --api-url (host and port), the network"),
    (net.ConnectTimeoutError, "no connection in {s.connect_timeout:g} s", "Check the network, or --connect-timeout"),
    (net.ReadTimeoutError, "no answer within the read timeout of {s.read_timeout:g} s", "Re-run, or --read-timeout"),
    (net.SSLError, "the TLS handshake failed", "Check --api-url / --site and any TLS-inspecting proxy"),
    ((net.ProtocolError, ConnectionError), "the connection was closed or reset", "Re-run: nothing is duplicated"),
)
NOT_TLS = "The host does not speak TLS on that port: use an http:// --api-url, or the right port"
TLS_FAILURES = {  # words of the TLS library's reason (OpenSSL 3.2 and later: "record layer failure", urllib3 #3271)
    "CERTIFICATE_VERIFY_FAILED": "Its certificate is not trusted (self-signed, or a TLS proxy): check --api-url",
    "WRONG_VERSION_NUMBER": NOT_TLS,
    "record layer": NOT_TLS,
}


def http_failure(exc: ApiException, kind: str, settings: Settings) -> tuple[str, str]:
    """(cause, what to check) for an HTTP error answer."""
    status = f"{exc.status} {exc.reason or ''}".rstrip()
    content_type = next((v for k, v in (exc.headers or {}).items() if k.lower() == "content-type"), "")
    if exc.headers and "json" not in content_type.lower():
        return f"HTTP {status} with a {content_type or 'no type'} page instead of JSON", NOT_THE_API
    if exc.status == 401:
        return status, "Check DD_API_KEY and DD_APP_KEY, and --site / DD_SITE"
    if exc.status == 403:
        return status, (
            f"Check that DD_APP_KEY belongs to the organisation of DD_API_KEY and allows {PERMISSIONS[kind]}, "
            "and --site / DD_SITE"
        )
    if exc.status == 429:
        return status, f"Still rate limited after {settings.max_retries} retries: wait a minute and re-run"
    if exc.status and exc.status < 500:
        said = server_errors(exc)
        clock = "past" in said.lower()  # a downtime start: apply computes it from this machine's clock
        check = "Check this machine's clock" if clock else "Datadog refused the request itself: re-running cannot help"
        return f"HTTP {status}{f': {said}' if said else ''}", check
    return f"HTTP {status}", "Re-run the same command: objects already made are found, not duplicated"


def server_errors(exc: ApiException, limit: int = 300) -> str:
    """The `errors` list of a Datadog error body (`{"errors": ["..."]}`), on one line; empty if there is none."""
    try:  # the client may have decoded it already
        errors = (json.loads(exc.body) if isinstance(exc.body, (bytes, str)) else exc.body).get("errors")
    except (ValueError, AttributeError):
        return ""
    text = " ".join("; ".join(map(str, errors)).split()) if isinstance(errors, list) else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def network_failure(exc: Exception, settings: Settings) -> tuple[str, str]:
    """(cause, what to check) for a failure to reach or talk to the host."""
    reason = exc.reason if isinstance(exc, net.MaxRetryError) else exc
    for kinds, cause, check in NETWORK_FAILURES:
        if isinstance(reason, kinds):
            why = getattr(reason.__cause__ or reason.__context__, "strerror", None) or "network error"
            if isinstance(reason, net.SSLError):
                check = next((hint for words, hint in TLS_FAILURES.items() if words in str(reason)), check)
            return cause.format(why=why, s=settings), check
    return f"cannot talk to the host ({type(reason).__name__})", "Check --api-url / --site and the network"


def maybe_sent(exc: Exception) -> bool:
    if isinstance(exc, ApiException):
        return not exc.status or exc.status >= 500 or exc.status == 408
    reason = exc.reason if isinstance(exc, net.MaxRetryError) else exc
    return not isinstance(reason, (net.ConnectTimeoutError, net.SSLError))


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
        """`operation()`, given up after settings.deadline seconds, retries and waits included: it runs in a worker
        thread so that nothing (a slow DNS answer, a retry wait) holds the command longer; once given up, the
        worker sends no further request."""
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
        return result["value"]

    def _failure(self, cause: str, check: str, action: str, kind: str) -> ProvisioningError:
        where = self.settings.api_url or self.host
        return ProvisioningError(f"{cause} while trying to {action} the {kind} at {where}. {check}.")

    def _deadline_error(self) -> ProvisioningError:
        action, kind = self._current
        cause = f"gave up after the deadline of {self.settings.deadline:g} s"
        error = self._failure(cause, "Re-run when the API answers: nothing is duplicated", action, kind)
        error.maybe_sent = True
        return error

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
            if exc.status or "SSLError" not in str(exc.reason):
                error = self._failure(*http_failure(exc, kind, self.settings), action, kind)
            else:  # the client's own report of a TLS failure, as a status-0 ApiException
                reason = net.SSLError(str(exc.reason))
                error = self._failure(*network_failure(reason, self.settings), action, kind)
            error.maybe_sent = maybe_sent(exc)
        except (net.HTTPError, OSError) as exc:
            if self._deadline_at is not None and time.monotonic() >= self._deadline_at:
                raise self._deadline_error() from None  # cut short by the deadline, not by its own timeout
            error = self._failure(*network_failure(exc, self.settings), action, kind)
            error.maybe_sent = maybe_sent(exc)
        except (ApiTypeError, ApiValueError, ValueError):
            error = self._failure("an answer that is not the Datadog API's JSON", NOT_THE_API, action, kind)
        raise error from None
