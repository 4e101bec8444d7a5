from django.apps import AppConfig


class LiverecordConfig(AppConfig):
    name = "liverecord"
    verbose_name = "Tenants and API keys"

    def ready(self) -> None:
        # Registers the OpenAPI auth extension; it imports the API, which needs the apps loaded.
        from liverecord.api import schema  # noqa: F401, PLC0415
