"""Reads on domains and rules, above all: which rule wins for a push."""

from __future__ import annotations

from django.db.models import QuerySet

from liverecord.models import App
from rules.constants import CATCH_ALL_DOMAIN
from rules.models import Domain, RecordRule
from rules.services import domain_name_normalize


def rule_priority(rule: RecordRule) -> int:
    """SPEC.md's level, 1 (most specific) to 8: exact stream, then exact domain, then exact app."""
    return 1 + 4 * (rule.stream_name == "") + 2 * (rule.domain == "") + (rule.app_name == "")


def rule_candidates(*, app: App, domain: str, app_name: str, stream_name: str) -> QuerySet[RecordRule]:
    """Every rule that matches a push (at most eight, one per level), with its template."""
    domain = domain_name_normalize(domain)
    return RecordRule.objects.select_related("template").filter(
        app=app,
        stream_name__in={stream_name, ""},
        domain__in={domain, ""},
        app_name__in={app_name, ""},
    )


def rule_match(*, app: App, domain: str, app_name: str, stream_name: str) -> RecordRule | None:
    """The winning rule (with its template) for a push, or None.

    One indexed query whatever the number of rules: the unique (app, stream, domain, app_name) index
    answers at most eight point lookups, and the winner is picked among those few rows.
    """
    candidates = rule_candidates(app=app, domain=domain, app_name=app_name, stream_name=stream_name)
    return min(candidates, key=rule_priority, default=None)


def domain_for_host(*, host: str) -> Domain | None:
    """The push domain of a push host: listed exactly, else the ``*`` catch-all, else None (refused)."""
    host = domain_name_normalize(host)
    found = {
        d.name: d for d in Domain.objects.select_related("app", "storage").filter(name__in={host, CATCH_ALL_DOMAIN})
    }
    return found.get(host) or found.get(CATCH_ALL_DOMAIN)
