"""Settings: the one object that says which engine, paths and environment a run uses."""
