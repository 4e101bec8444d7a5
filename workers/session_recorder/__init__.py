"""The recorder glue: one engine ``StreamRecorder`` per publish session, its events turned into service calls.

Distinct from ``workers.engine.recorder`` (the Django-free engine): this package is the layer that knows the rows.

- ``run``: one recorder job (admission, claim, spool fence, the engine's run, the end of the session)
- ``listener``: engine events → services; the rows' state (push ended, task stopped) → engine calls
- ``specs``: a record task as the engine's ``RecordingSpec``
- ``results``: the engine's ``PackagedFile`` as the services' ``PackagedResult``; open playlists closed
- ``held_playlist``: the close of a playlist held open for reconnects (Celery task ``close_hls_playlist``)
- ``hls_sync``: when to queue the upload of a live HLS playlist
- ``admission``: the process's recorder slots
- ``db_retry``: writes that wait out a database restart
- ``spool_cleanup``: a session's spool once its recordings are done
"""

from workers.session_recorder.db_retry import until_database_answers
from workers.session_recorder.held_playlist import close_task_playlist
from workers.session_recorder.run import run_session_recorder

__all__ = ["close_task_playlist", "run_session_recorder", "until_database_answers"]
