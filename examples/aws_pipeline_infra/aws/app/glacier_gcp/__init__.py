"""Glacier's GCP provider: GCS storage, Cloud Functions and Cloud Run compute, and the GCP
compiler (Workflows, per-task service accounts, Cloud Scheduler).

Importing this package never imports pulumi or a Google SDK: the same package runs inside
Cloud Functions and Cloud Run jobs (``glacier_gcp.runtime``), where neither is needed. The
compiler generates Pulumi program *text*; only the generated program imports pulumi.
"""

from __future__ import annotations

from glacier_gcp.compiler import GCPCompiler
from glacier_gcp.compute import CloudFunction, CloudRun
from glacier_gcp.hints import check_storage_hints
from glacier_gcp.provider import GCPProvider
from glacier_gcp.storage import GCS

__all__ = ["GCS", "CloudFunction", "CloudRun", "GCPCompiler", "GCPProvider", "check_storage_hints"]
