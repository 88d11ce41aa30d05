"""What prefect.yaml needs beyond itself: a ``serve`` entry for local schedules."""
