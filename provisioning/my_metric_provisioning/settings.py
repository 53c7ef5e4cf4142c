"""What a provisioning run is told, and how a Datadog call fails, kept free of the Datadog client so that the CLI
can check its options before importing it (the client's import alone takes a large part of a second)."""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# The sites datadog-api-client accepts for its `site` server variable; a test keeps this list equal to the client's.
KNOWN_SITES = (
    "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "ap1.datadoghq.com", "ap2.datadoghq.com",
    "uk1.datadoghq.com", "datadoghq.eu", "ddog-gov.com", "us2.ddog-gov.com"
)  # fmt: skip


class ProvisioningError(Exception):
    """A Datadog call failed; the message names the host, the action and the cause, never key material."""

    maybe_sent = False  # it may have been carried out (a 5xx, timeout or reset): look a create up before resending


@dataclass
class Settings:
    notify: str
    timezone: ZoneInfo  # parsed once, from --timezone
    site: str = "datadoghq.com"
    api_url: str | None = None
    max_retries: int = 3
    retry_backoff: float = 2.0
    connect_timeout: float = 10.0  # seconds to open the connection, per attempt
    read_timeout: float = 60.0  # seconds without a byte of the answer, per attempt
    deadline: float = 300.0  # seconds for the whole command, retries and waits included
    api_key: str = field(default="", repr=False)
    app_key: str = field(default="", repr=False)
