"""Support modules copied verbatim into every generated Azure stack.

``infra.py`` becomes the stack's ``glacier_infra.py`` (context, storage accounts and
containers, identities, conditioned role assignments, Key Vault), ``compute.py`` becomes
``glacier_compute.py`` (Function Apps, Container Apps jobs, the Logic App) and ``bundle.py``
becomes ``glacier_bundle.py`` (the deploy-time function package). They live here as real
modules so they are linted, type-checked and tested like the rest of Glacier; they are never
imported by ``glacier_azure`` itself.
"""
