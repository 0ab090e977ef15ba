"""Support modules copied verbatim into every generated AWS stack.

``infra.py`` becomes the stack's ``glacier_infra.py`` (secure building blocks the generated
``__main__.py`` calls) and ``bundle.py`` becomes ``glacier_bundle.py`` (the deploy-time
Lambda bundle build). They live here as real modules so they are linted, type-checked and
tested like the rest of Glacier; they are never imported by ``glacier_aws`` itself.
"""
