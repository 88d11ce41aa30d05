"""Test and development support: emulators, the dbt CLI helper. The product never imports it."""
