"""The recorder glue: one engine ``StreamRecorder`` per publish session, its events turned into service calls.

Distinct from ``workers.engine.recorder`` (the Django-free engine): this package is the layer that knows the rows.
"""

from workers.session_recorder.run import run_session_recorder, until_database_answers

__all__ = ["run_session_recorder", "until_database_answers"]
