from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What an operator watches: readiness, metrics and the scheduler's heartbeat.

    The top layer: it reads every app below it and nothing imports it.
    """

    name = "operations"
    verbose_name = "Operations"
