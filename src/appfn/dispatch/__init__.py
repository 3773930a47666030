"""From an accepted event to recorded executions: ingestion, the async dispatcher with
retries and dead letters, and sync actions."""
