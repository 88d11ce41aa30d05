"""Test and development support: the BigQuery emulator process and crucible's patch.
The product never imports it."""
