from __future__ import annotations

from django import forms

from liverecord.models import App


class RuleMatchForm(forms.Form):
    """The push to test in the console's "which rule wins?" page."""

    app = forms.ModelChoiceField(queryset=App.objects.all())
    domain = forms.CharField(max_length=253, help_text="The push host, e.g. push.example.com")
    app_name = forms.CharField(max_length=128, initial="live")
    stream_name = forms.CharField(max_length=128)
