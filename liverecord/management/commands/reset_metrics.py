"""Empty the Prometheus multiprocess folder (``PROMETHEUS_MULTIPROC_DIR``) before a host's processes start.

Files of processes that are gone would otherwise be summed forever; counters then start again from zero,
which Prometheus' ``rate()`` takes as a reset. Run it only while no web or worker process of the host runs
(``deploy/systemd/liverecord-prepare.service`` does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Empty the Prometheus multiprocess folder before the host's processes start."

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(settings.PROMETHEUS_MULTIPROC_DIR)
        removed = 0
        for path in folder.glob("*.db"):
            path.unlink(missing_ok=True)
            removed += 1
        self.stdout.write(f"removed {removed} metrics file(s) from {folder}")
