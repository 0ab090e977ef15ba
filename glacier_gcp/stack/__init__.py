"""Support modules copied verbatim into every generated GCP stack.

``infra.py`` becomes the stack's ``glacier_infra.py`` (secure building blocks: buckets,
service accounts, conditional bucket access, secrets), ``compute.py`` becomes
``glacier_compute.py`` (functions, jobs, the workflow, the schedule) and ``bundle.py``
becomes ``glacier_bundle.py`` (the deploy-time function source archive). They live here as
real modules so they are linted, type-checked and tested like the rest of Glacier; they are
never imported by ``glacier_gcp`` itself.
"""
