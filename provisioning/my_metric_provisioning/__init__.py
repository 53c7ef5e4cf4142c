"""Provision the my_metric dashboard, monitor and downtimes in a Datadog organisation."""

__version__ = "0.1.0"
