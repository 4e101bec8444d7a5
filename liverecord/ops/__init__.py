"""Operations: health and readiness, Prometheus metrics, log context (SPEC.md "Operations")."""
