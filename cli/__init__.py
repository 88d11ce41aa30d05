"""The ``olist`` command: arguments → flows, errors → exit codes and one paragraph."""
