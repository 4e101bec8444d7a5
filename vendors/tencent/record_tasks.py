"""The legacy (CreateLiveRecord…) and new (CreateRecordTask…) task APIs onto record tasks (vendor-apis.md §1.6–1.7).

Legacy tasks answer integer ids (the task's primary key), new ones the task's public id, as Tencent answers
an integer and an opaque string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from django.core import signing
from django.core.exceptions import ValidationError

from liverecord.errors import ConflictError
from recordings.choices import FINAL_TASK_STATUSES, TaskKind
from recordings.models import RecordTask
from recordings.services import task_create_highlight, task_create_scheduled, task_delete, task_stop
from rules.models import Domain
from templates_app.constants import STORAGE_TIME_MAX
from templates_app.models import RecordTemplate
from vendors.tencent.context import Context
from vendors.tencent.errors import TencentError, missing, out_of_range
from vendors.tencent.params import CST, Params, unix
from vendors.tencent.record_rules import push_domain, stream_part

FORMATS = ("flv", "hls", "mp4", "aac", "mp3")
TASK_KINDS = (TaskKind.SCHEDULED, TaskKind.HIGHLIGHT)
DAILY_TASKS = 4000
RUNNING_TASKS = 400
HIGHLIGHT_MAX = timedelta(minutes=30)
STREAM_PARAM_INTERVAL = (1800, 7200)
DESCRIBE_PAGE_SIZE = 100
DESCRIBE_WINDOW = timedelta(days=7)
DESCRIBE_HISTORY = timedelta(days=90)
SCROLL_SALT = "vendors.tencent.scroll"
TIME_FIELDS = {"end_time": "EndTime", "start_time": "StartTime"}


@contextmanager
def _service_errors(time_code: str) -> Iterator[None]:
    """A record-task service's refusals in Tencent's words."""
    try:
        yield
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        name = TIME_FIELDS.get(field, field)
        raise TencentError(time_code, f"The value of the parameter `{name}` {messages[0]}.") from exc
    except ConflictError as exc:
        if exc.code == "stream_not_live":
            raise TencentError("ResourceUnavailable.StreamNotExist", "The stream is not being pushed.") from exc
        if exc.code == "already_stopped":
            raise TencentError("FailedOperation.AlterTaskState", f"The task cannot be changed: {exc.message}.") from exc
        if "at most" in exc.message:
            raise TencentError("InvalidParameter.TaskNumMoreThanLimit", exc.message) from exc
        raise TencentError("FailedOperation.AlterTaskState", exc.message) from exc


def _domain(ctx: Context, p: Params, *, required: bool) -> Domain:
    name = p.string("DomainName", required=required, max_length=253)
    if name:
        return push_domain(ctx, name)
    domains = list(Domain.objects.filter(app=ctx.app)[:2])
    if len(domains) != 1:
        raise missing("DomainName")
    return domains[0]


def _check_quotas(ctx: Context) -> None:
    midnight = ctx.now.astimezone(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    tasks = RecordTask.objects.filter(app=ctx.app, kind__in=TASK_KINDS)
    if tasks.filter(created__gte=midnight).count() >= DAILY_TASKS:
        raise TencentError("LimitExceeded.MaximumTask", f"At most {DAILY_TASKS} record tasks a day.")
    if tasks.exclude(status__in=FINAL_TASK_STATUSES).count() >= RUNNING_TASKS:
        raise TencentError("LimitExceeded.MaximumRunningTask", f"At most {RUNNING_TASKS} record tasks at once.")


def _stream_param(p: Params) -> tuple[int, int]:
    """``record_interval`` and ``storage_time`` from StreamParam, a URL query string."""
    raw = p.string("StreamParam", max_length=1024)
    query = parse_qs(raw, keep_blank_values=True)
    values = []
    for key, default, (low, high) in (
        ("record_interval", 1800, STREAM_PARAM_INTERVAL),
        ("storage_time", 0, (0, STORAGE_TIME_MAX)),
    ):
        text = query.get(key, [str(default)])[-1]
        if not text.isdigit() or not low <= int(text) <= high:
            raise out_of_range("StreamParam", f"must have {key} between {low} and {high}")
        values.append(int(text))
    return values[0], values[1]


def create_live_record(ctx: Context, p: Params) -> dict[str, Any]:
    stream_name = stream_part(p, "StreamName", required=True)
    app_name = stream_part(p, "AppName", default="live") or "live"
    domain = _domain(ctx, p, required=False)
    record_type = p.choice("RecordType", ("video", "audio"), default="video")
    fmt = p.choice("FileFormat", FORMATS, default="flv")
    highlight = p.integer("Highlight", low=0, high=1)
    if p.integer("MixStream", low=0, high=1):
        raise out_of_range("MixStream", "must be 0: record the mixed output stream by its own StreamName")
    interval, storage_time = _stream_param(p)
    formats = {fmt: {"record_interval": 0 if fmt == "hls" else interval, "storage_time": storage_time}}
    start, end = p.cst_time("StartTime"), p.cst_time("EndTime")
    where: dict[str, Any] = {"app": ctx.app, "domain": domain.name, "app_name": app_name, "stream_name": stream_name}
    _check_quotas(ctx)
    with _service_errors("InvalidParameter.InvalidTaskTime"):
        if highlight:
            if end is None or end <= ctx.now or end > ctx.now + HIGHLIGHT_MAX:
                end = ctx.now + HIGHLIGHT_MAX
            task = task_create_highlight(**where, end_time=end, formats=formats, record_type=record_type, now=ctx.now)
        else:
            if start is None:
                raise missing("StartTime")
            if end is None:
                raise missing("EndTime")
            task = task_create_scheduled(
                **where, start_time=start, end_time=end, formats=formats, record_type=record_type, now=ctx.now
            )
    return {"TaskId": task.pk}


def _legacy_task(ctx: Context, p: Params) -> RecordTask:
    stream_name = p.string("StreamName", required=True, max_length=128)
    task_id = p.integer("TaskId", required=True)
    task = RecordTask.objects.filter(app=ctx.app, pk=task_id, stream_name=stream_name, kind__in=TASK_KINDS).first()
    if task is None:
        raise TencentError("ResourceNotFound.TaskId", f"No task {task_id} records the stream `{stream_name}`.")
    return task


def _apply(ctx: Context, task: RecordTask, action: Callable[[RecordTask], Any]) -> dict[str, Any]:
    with _service_errors("FailedOperation.AlterTaskState"):
        action(task)
    return {}


def stop_live_record(ctx: Context, p: Params) -> dict[str, Any]:
    return _apply(ctx, _legacy_task(ctx, p), lambda task: task_stop(task=task, now=ctx.now))


def delete_live_record(ctx: Context, p: Params) -> dict[str, Any]:
    return _apply(ctx, _legacy_task(ctx, p), lambda task: task_delete(task=task))


def create_record_task(ctx: Context, p: Params) -> dict[str, Any]:
    stream_name = stream_part(p, "StreamName", required=True)
    domain = push_domain(ctx, p.string("DomainName", required=True, max_length=253))
    app_name = stream_part(p, "AppName", required=True)
    end = p.unix_time("EndTime", required=True)
    start = p.unix_time("StartTime")
    if p.integer("StreamType", low=0, high=1):
        raise out_of_range("StreamType", "must be 0: record the mixed output stream by its own StreamName")
    template_id = p.integer("TemplateId", low=0)
    p.string("Extension", max_length=1024)
    # Tencent: an unknown TemplateId records HLS, kept forever (the service's default formats).
    template = RecordTemplate.objects.filter(app=ctx.app, pk=template_id).first() if template_id else None
    _check_quotas(ctx)
    with _service_errors("InvalidParameter.InvalidTaskTime"):
        task = task_create_scheduled(
            app=ctx.app,
            domain=domain.name,
            app_name=app_name,
            stream_name=stream_name,
            start_time=start,
            end_time=end,
            template=template,
            now=ctx.now,
        )
    return {"TaskId": task.public_id}


def _new_task(ctx: Context, p: Params) -> RecordTask:
    task_id = p.string("TaskId", required=True, max_length=128)
    task = RecordTask.objects.filter(app=ctx.app, public_id=task_id, kind__in=TASK_KINDS).first()
    if task is None:
        raise TencentError("InvalidParameter.TaskNotExist", f"The task `{task_id}` does not exist.")
    return task


def stop_record_task(ctx: Context, p: Params) -> dict[str, Any]:
    return _apply(ctx, _new_task(ctx, p), lambda task: task_stop(task=task, now=ctx.now))


def delete_record_task(ctx: Context, p: Params) -> dict[str, Any]:
    return _apply(ctx, _new_task(ctx, p), lambda task: task_delete(task=task))


def _window(ctx: Context, p: Params) -> tuple[datetime, datetime]:
    start = p.unix_time("StartTime", required=True)
    end = p.unix_time("EndTime", required=True)
    assert start is not None and end is not None
    if end < start or end - start > DESCRIBE_WINDOW or start < ctx.now - DESCRIBE_HISTORY:
        raise TencentError(
            "InvalidParameter.InvalidTaskTime",
            "StartTime and EndTime must span at most 7 days, EndTime after StartTime, no earlier than 90 days ago.",
        )
    return start, end


def _scroll_after(ctx: Context, token: str) -> int:
    if not token:
        return 0
    try:
        payload = signing.loads(token, salt=SCROLL_SALT)
    except signing.BadSignature as exc:
        raise out_of_range("ScrollToken", "is not a token this service answered") from exc
    if not isinstance(payload, list) or len(payload) != 2 or payload[0] != ctx.app.pk:
        raise out_of_range("ScrollToken", "is not a token this service answered")
    return int(payload[1])


def describe_record_task(ctx: Context, p: Params) -> dict[str, Any]:
    start, end = _window(ctx, p)
    filters: dict[str, str] = {}
    for key, field in (("StreamName", "stream_name"), ("DomainName", "domain"), ("AppName", "app_name")):
        if value := p.string(key, max_length=253):
            filters[field] = value.lower() if field == "domain" else value
    after = _scroll_after(ctx, p.string("ScrollToken", max_length=512))
    rows = list(
        RecordTask.objects.filter(
            app=ctx.app, kind__in=TASK_KINDS, start_time__gte=start, end_time__lte=end, pk__gt=after, **filters
        ).order_by("pk")[: DESCRIBE_PAGE_SIZE + 1]
    )
    page = rows[:DESCRIBE_PAGE_SIZE]
    more = len(rows) > DESCRIBE_PAGE_SIZE
    return {
        "ScrollToken": signing.dumps([ctx.app.pk, page[-1].pk], salt=SCROLL_SALT) if more else "",
        "TaskList": [
            {
                "TaskId": task.public_id,
                "DomainName": task.domain,
                "AppName": task.app_name,
                "StreamName": task.stream_name,
                "StartTime": unix(task.start_time),
                "EndTime": unix(task.end_time),
                "TemplateId": task.template_id or 0,
                "Stopped": unix(task.stopped_at),
            }
            for task in page
        ],
    }
