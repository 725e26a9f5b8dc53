"""PostgreSQL with health checks skipped for a connection proven moments ago (base.py)."""
