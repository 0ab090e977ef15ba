"""Example Glacier pipelines. ``python -m examples.demo`` runs the quickstart end to end."""
