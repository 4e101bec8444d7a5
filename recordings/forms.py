from __future__ import annotations

from django import forms

from liverecord.models import App
from templates_app.models import RecordTemplate


class RecordTaskCreateForm(forms.Form):
    """The console's form for a scheduled window or a highlight (the same checks as the API: services decide)."""

    KIND_CHOICES = (("scheduled", "scheduled window"), ("highlight", "highlight (stream must be live)"))

    app = forms.ModelChoiceField(queryset=App.objects.all())
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    domain = forms.CharField(max_length=253)
    app_name = forms.CharField(max_length=128, initial="live")
    stream_name = forms.CharField(max_length=128)
    start_time = forms.DateTimeField(required=False, help_text="Scheduled only; empty means now. UTC.")
    end_time = forms.DateTimeField(required=False, help_text="Required for scheduled; highlights default to +30 min.")
    lookback_seconds = forms.IntegerField(required=False, min_value=0, max_value=1800, help_text="Highlights only.")
    template = forms.ModelChoiceField(
        queryset=RecordTemplate.objects.all(), required=False, help_text="Empty: HLS, kept forever."
    )
