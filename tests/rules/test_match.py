"""Rule priority (SPEC.md's eight levels) against a small independent oracle, and its query cost."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from liverecord.models import App
from rules.models import RecordRule
from rules.selectors import rule_match
from templates_app.models import RecordTemplate

# The SPEC table, written out row by row: (stream exact?, domain exact?, app exact?), highest first.
LEVELS = [
    (True, True, True),
    (True, True, False),
    (True, False, True),
    (True, False, False),
    (False, True, True),
    (False, True, False),
    (False, False, True),
    (False, False, False),
]

DOMAINS = ["a.tv", "b.tv", ""]
APP_NAMES = ["live", "edu", ""]
STREAMS = ["s1", "s2", ""]
ALL_KEYS = list(itertools.product(DOMAINS, APP_NAMES, STREAMS))


def oracle(rules: set[tuple[str, str, str]], push: tuple[str, str, str]) -> tuple[str, str, str] | None:
    domain, app_name, stream = push
    for stream_exact, domain_exact, app_exact in LEVELS:
        key = (domain if domain_exact else "", app_name if app_exact else "", stream if stream_exact else "")
        if key in rules:
            return key
    return None


class RulePriorityProperty(TestCase):
    @settings(max_examples=150, deadline=None)
    @given(
        rules=st.sets(st.sampled_from(ALL_KEYS), max_size=len(ALL_KEYS)),
        push=st.tuples(
            st.sampled_from(["a.tv", "b.tv"]), st.sampled_from(["live", "edu"]), st.sampled_from(["s1", "s2"])
        ),
    )
    def test_the_winner_is_the_oracles(self, rules: set[tuple[str, str, str]], push: tuple[str, str, str]) -> None:
        app = App.objects.create(name="prop")
        template = RecordTemplate.objects.create(app=app, name="t")
        RecordRule.objects.bulk_create(
            RecordRule(app=app, domain=d, app_name=a, stream_name=s, template=template) for d, a, s in rules
        )
        winner = rule_match(app=app, domain=push[0], app_name=push[1], stream_name=push[2])
        got = None if winner is None else (winner.domain, winner.app_name, winner.stream_name)
        assert got == oracle(rules, push)


@pytest.mark.django_db
def test_stream_rule_beats_domain_rule() -> None:
    app = App.objects.create(name="x")
    template = RecordTemplate.objects.create(app=app, name="t")
    RecordRule.objects.create(app=app, domain="a.tv", app_name="live", template=template)
    stream_rule = RecordRule.objects.create(app=app, stream_name="s1", template=template)
    assert rule_match(app=app, domain="a.tv", app_name="live", stream_name="s1") == stream_rule


@pytest.mark.django_db
def test_matching_is_one_query_with_ten_thousand_rules() -> None:
    app = App.objects.create(name="big")
    template = RecordTemplate.objects.create(app=app, name="t")
    RecordRule.objects.bulk_create(
        [
            RecordRule(app=app, domain="", app_name="live", stream_name=f"stream-{i}", template=template)
            for i in range(10_000)
        ],
        batch_size=1000,
    )
    with CaptureQueriesContext(connection) as queries:
        winner = rule_match(app=app, domain="a.tv", app_name="live", stream_name="stream-9876")
    assert winner is not None and winner.stream_name == "stream-9876"
    assert winner.template.name == "t"
    assert len(queries) == 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE rules_recordrule")
            sql = queries[0]["sql"]
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Seq Scan on rules_recordrule" not in plan, plan
