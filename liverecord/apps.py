from django.apps import AppConfig


class LiverecordConfig(AppConfig):
    name = "liverecord"
    verbose_name = "Tenants and API keys"

    def ready(self) -> None:
        from liverecord.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
