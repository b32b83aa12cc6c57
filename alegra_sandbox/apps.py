from django.apps import AppConfig


class AlegraSandboxConfig(AppConfig):
    name = "alegra_sandbox"
    verbose_name = "Alegra sandbox"
