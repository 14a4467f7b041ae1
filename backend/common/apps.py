from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "haruchat common"

    def ready(self) -> None:
        from common import checks, deploy_checks  # noqa: F401  (registers system checks)
