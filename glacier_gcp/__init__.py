"""Glacier's GCP provider package (GCS, Cloud Functions, Cloud Run, Workflows).

Not built yet: the core reports a clear error when ``--target gcp`` is asked for. The package
exists so the distribution layout (one wheel, four packages) is fixed from the start.
"""
