"""Signed callbacks against a real HTTP receiver on loopback (requests is never patched)."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.hook_receiver import HookReceiver, RecordedRequest
from tests.support.ports import free_port
from workers.callbacks import SIGNATURE_HEADER, backoff_delays, deliver, sign_body, verify_signature

KEY = "callback-key-42"
BODY = {"event_type": 100, "event_id": "evt-1", "app": "push.example.com", "stream_id": "s1", "file_size": 123}


#: When the sender signs, and when the receiver checks (a minute later): no test here reads the wall clock.
SIGNED_AT = 1_700_000_000
CHECKED_AT = SIGNED_AT + 60


def receiver_checks(req: RecordedRequest) -> bool:
    """What a customer's receiver does: check sign = md5(key + t) and the body HMAC header."""
    now = CHECKED_AT
    body = json.loads(req.body)
    sign_ok = body["sign"] == hashlib.md5(f"{KEY}{body['t']}".encode()).hexdigest()
    header_ok = verify_signature(req.body, req.headers[SIGNATURE_HEADER.lower()], key=KEY, now=now)
    return sign_ok and header_ok


def test_sign_body_adds_t_sign_and_an_hmac_header_over_the_raw_bytes() -> None:
    raw, headers = sign_body(BODY, key=KEY, appid=1250000000, now=1_700_000_000)
    body = json.loads(raw)
    assert body["t"] == 1_700_000_600
    assert body["sign"] == hashlib.md5(f"{KEY}1700000600".encode()).hexdigest()
    assert body["appid"] == 1250000000
    assert body["event_id"] == "evt-1"
    assert b" " not in raw  # compact JSON
    assert headers["Content-Type"] == "application/json"
    assert headers[SIGNATURE_HEADER].startswith("t=1700000600,v1=")
    assert verify_signature(raw, headers[SIGNATURE_HEADER], key=KEY, now=1_700_000_000)


def test_a_receiver_answering_500_twice_then_200_gets_three_signed_attempts() -> None:
    answers = iter([500, 500, 200])
    with HookReceiver(handler=lambda req: next(answers) if receiver_checks(req) else 401) as hooks:
        raw, headers = sign_body(BODY, key=KEY, appid=1, now=SIGNED_AT)
        attempts = [deliver(hooks.url("/cb"), raw, headers, timeout=5) for _ in range(3)]

    assert [a.ok for a in attempts] == [False, False, True]
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert attempts[0].error == "HTTP 500"
    assert attempts[2].error == ""
    assert [r.status for r in hooks.requests] == [500, 500, 200]  # every attempt passed the receiver's checks
    assert all(r.body == raw for r in hooks.requests)


def test_a_tampered_body_fails_verification() -> None:
    raw, headers = sign_body(BODY, key=KEY, appid=1, now=1000)
    tampered = raw.replace(b'"file_size":123', b'"file_size":124')
    assert tampered != raw
    assert not verify_signature(tampered, headers[SIGNATURE_HEADER], key=KEY, now=1000)
    assert not verify_signature(raw, headers[SIGNATURE_HEADER], key="another-key", now=1000)
    assert not verify_signature(raw, "", key=KEY, now=1000)
    assert not verify_signature(raw, "t=abc,v1=00", key=KEY, now=1000)


def test_an_expired_t_fails_and_a_far_future_t_fails() -> None:
    raw, headers = sign_body(BODY, key=KEY, appid=1, now=1000)  # t = 1600
    assert verify_signature(raw, headers[SIGNATURE_HEADER], key=KEY, now=1600)
    assert not verify_signature(raw, headers[SIGNATURE_HEADER], key=KEY, now=1601)
    assert not verify_signature(raw, headers[SIGNATURE_HEADER], key=KEY, now=1600 - 600 - 601)


def test_a_tampered_body_is_refused_by_the_receiver() -> None:
    with HookReceiver(handler=lambda req: 200 if receiver_checks(req) else 401) as hooks:
        raw, headers = sign_body(BODY, key=KEY, appid=1, now=SIGNED_AT)
        attempt = deliver(hooks.url("/cb"), raw.replace(b"evt-1", b"evt-2"), headers)
    assert not attempt.ok
    assert attempt.status_code == 401


class StepClock:
    """An injected ``time.monotonic``: each reading is ``step`` seconds after the one before."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.readings = 0.0, step, 0

    def __call__(self) -> float:
        self.readings += 1
        self.now += self.step
        return self.now


def test_connection_refused_is_a_failed_attempt_not_an_exception() -> None:
    clock = StepClock(0.25)
    attempt = deliver(
        f"http://127.0.0.1:{free_port()}/cb", b"{}", {"Content-Type": "application/json"}, timeout=3, clock=clock
    )
    assert not attempt.ok
    assert attempt.status_code is None
    assert "Connection" in attempt.error and "timeout" not in attempt.error, "refused at once, no wait for 3 s"
    assert (clock.readings, attempt.duration_ms) == (2, 250), "timed on the injected clock: start and end"


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt() -> None:
    with HookReceiver(status=200, delay=2.0) as hooks:
        attempt = deliver(hooks.url("/cb"), b"{}", {"Content-Type": "application/json"}, timeout=0.5)
        (request,) = hooks.requests
        answered_before_we_gave_up = request.status is not None  # set once the receiver's 2 s delay is over
    assert not attempt.ok
    assert attempt.status_code is None
    assert "timeout" in attempt.error
    assert not answered_before_we_gave_up, "the sender gave up while the receiver was still answering"


def test_an_answer_that_outlasts_the_timeout_on_the_clock_fails() -> None:
    """``timeout`` bounds the whole exchange: an answer whose reading takes longer fails even if each read is quick."""
    with HookReceiver(status=200, body="x" * 5000) as hooks:
        attempt = deliver(hooks.url("/cb"), b"{}", {}, timeout=1.0, clock=StepClock(0.6))
    assert not attempt.ok and attempt.status_code == 200
    assert "answer not complete within 1s" in attempt.error


def test_a_redirect_is_not_followed_and_not_ok() -> None:
    with HookReceiver(status=302) as hooks:
        attempt = deliver(hooks.url("/cb"), b"{}", {})
    assert not attempt.ok
    assert attempt.status_code == 302
    assert len(hooks.requests) == 1


def test_the_response_excerpt_is_kept_short() -> None:
    with HookReceiver(status=500, body="x" * 5000) as hooks:
        attempt = deliver(hooks.url("/cb"), b"{}", {})
    assert attempt.response_excerpt == "x" * 500


def test_an_invalid_url_is_a_failed_attempt() -> None:
    attempt = deliver("not a url", b"{}", {})
    assert not attempt.ok and attempt.error


def test_default_backoff_spreads_six_retries_over_about_an_hour() -> None:
    no_jitter = backoff_delays(jitter=0)
    assert no_jitter == [30, 75, 187.5, 468.75, 1171.875, 1800]
    assert sum(no_jitter) == pytest.approx(3733.125)
    for seed in range(200):
        delays = backoff_delays(rng=random.Random(seed))
        assert len(delays) == 6
        assert 2986 <= sum(delays) <= 4120
        assert all(d <= 1800 for d in delays)


@settings(max_examples=200, deadline=None)
@given(
    attempts=st.integers(1, 12),
    first=st.floats(1, 600),
    factor=st.floats(1, 4),
    jitter=st.floats(0, 0.5),
    cap=st.floats(1, 7200),
    seed=st.integers(0, 2**32),
)
def test_every_delay_stays_within_jitter_of_its_capped_exponential(
    attempts: int, first: float, factor: float, jitter: float, cap: float, seed: int
) -> None:
    delays = backoff_delays(attempts, first, factor, jitter, cap, rng=random.Random(seed))
    assert len(delays) == attempts
    for i, d in enumerate(delays):
        base = min(cap, first * factor**i)
        assert base * (1 - jitter) - 1e-9 <= d <= min(cap, base * (1 + jitter)) + 1e-9


@given(body=st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=20)), max_size=5))
def test_any_signed_body_verifies_and_any_changed_byte_does_not(body: dict) -> None:
    raw, headers = sign_body(body, key=KEY, appid=7, now=5000)
    assert verify_signature(raw, headers[SIGNATURE_HEADER], key=KEY, now=5000)
    flipped = bytes([raw[0] ^ 1]) + raw[1:]
    assert not verify_signature(flipped, headers[SIGNATURE_HEADER], key=KEY, now=5000)
