from __future__ import annotations

from typing import Any

from django import forms

from rooms.choices import StreamType
from rooms.constants import MAX_IDLE_TIME_DEFAULT, MAX_RECORD_TIME_DEFAULT
from rules.models import Domain
from templates_app.models import RecordTemplate


def _names(value: str) -> list[str] | None:
    names = [part.strip() for part in value.split(",") if part.strip()]
    return names or None


class CloudRecordingStartForm(forms.Form):
    """The console's *start recording* form (single mode); the service makes every check the API makes."""

    domain = forms.ModelChoiceField(queryset=Domain.objects.select_related("app"))
    room_id = forms.CharField(max_length=128)
    stream_type = forms.ChoiceField(choices=StreamType.choices, initial=StreamType.AUDIO_VIDEO)
    template = forms.ModelChoiceField(
        queryset=RecordTemplate.objects.all(), required=False, help_text="Empty: MP4 files of 30 min."
    )
    subscribe_audio = forms.CharField(required=False, help_text="Stream names, comma-separated.")
    subscribe_video = forms.CharField(required=False)
    unsubscribe_audio = forms.CharField(required=False)
    unsubscribe_video = forms.CharField(required=False)
    max_idle_time = forms.IntegerField(initial=MAX_IDLE_TIME_DEFAULT)
    max_record_time = forms.IntegerField(initial=MAX_RECORD_TIME_DEFAULT)

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        domain: Domain = data.pop("domain")
        lists = {name: _names(data.pop(name)) for name in list(data) if name.endswith(("_audio", "_video"))}
        return {"app": domain.app, "domain": domain.name, **data, **lists}


class CloudRecordingSubscriptionForm(forms.Form):
    """The console's *update subscription*: the page shows the four lists as stored; what is posted replaces them
    (a list emptied is cleared), and the service applies it to live streams at once."""

    subscribe_audio = forms.CharField(required=False, help_text="Stream names, comma-separated.")
    unsubscribe_audio = forms.CharField(required=False)
    subscribe_video = forms.CharField(required=False)
    unsubscribe_video = forms.CharField(required=False)

    @classmethod
    def initial_of(cls, recording: Any) -> dict[str, str]:
        return {name: ", ".join(getattr(recording, name) or ()) for name in cls.base_fields}

    def lists(self) -> dict[str, list[str] | None]:
        return {name: _names(value) for name, value in self.cleaned_data.items()}
