from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Rooms and cloud recordings"

    def ready(self) -> None:
        # The receivers of the recordings app's session signals (pushes of a room opened or ended).
        from rooms import receivers  # noqa: F401, PLC0415 - Django's documented place to connect signals
