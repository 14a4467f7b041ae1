from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "Model providers"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from llm.providers import reset_provider_cache

        setting_changed.connect(reset_provider_cache, dispatch_uid="llm.reset_provider_cache")
