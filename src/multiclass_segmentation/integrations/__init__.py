"""Outside services: ClearML tasks and network probes (Kedro-free), and the Kedro hook
that tracks runs in ClearML (tracking.py)."""
