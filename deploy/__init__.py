"""Deployment helpers (nginx-rtmp ingest config, process management). Plain Python, no Django import."""
