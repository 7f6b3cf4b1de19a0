"""Background jobs run once per deployment: the leader lease, the worker process, the job list."""
