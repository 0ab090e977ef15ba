"""What Glacier's core knows of Google Cloud: the object registered as the ``gcp`` provider.

Everything here is declared data (see :class:`glacier.compilation.provider.Provider`); the
compiler itself is imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from glacier.compilation.provider import Price
from glacier.errors import GlacierError
from glacier_gcp.naming import NAME_RULES

if TYPE_CHECKING:
    from glacier.ir import ResourceIR
    from glacier_gcp.compiler import GCPCompiler

#: Internet egress out of Google Cloud, Premium Tier (the default), first paid tier (0-1 TiB).
EGRESS = Price(0.12, "GB", as_of="2026-11", source="https://cloud.google.com/vpc/network-pricing")

#: Data moved between two Google Cloud regions on one continent (Northern America), per GB.
INTER_REGION = Price(
    0.02, "GB", as_of="2026-11", source="https://cloud.google.com/storage/pricing#network-pricing"
)

#: Hard limits the compiler holds tasks and definitions to.
LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "function_memory_mb": 32768,
        "function_timeout_seconds": 1800,  # what Workflows waits for one HTTP call
        "function_environment_value_bytes": 32768,
        "orchestrator_definition_chars": 128_000,
        "orchestrator_parallel_branches": 10,
        "orchestrator_parallel_nesting": 2,
    }
)


class GCPProvider:
    """Glacier's GCP provider: GCS, Cloud Functions (2nd gen), Cloud Run jobs, Workflows."""

    name = "gcp"
    package = "glacier_gcp"
    runtime = "glacier_gcp.runtime:handler"
    schemes = ("gs", "gcs")
    storage_class = "glacier_gcp.storage.GCS"
    egress = EGRESS
    inter_region = INTER_REGION
    #: Clouds whose data a GCP task reaches in a multi-cloud stack (web identity federation).
    reaches = ("aws",)
    name_rules = MappingProxyType(NAME_RULES)
    limits = LIMITS
    compiles = True

    def compiler(self, region: str | None = None) -> GCPCompiler:
        """A GCPCompiler for ``region``, else configured from the environment
        (GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_REGION...)."""
        from glacier_gcp.compiler import GCPCompiler

        compiler = GCPCompiler.from_env()
        return compiler if region is None else GCPCompiler(project=compiler.project, region=region)

    def location(self, storage: ResourceIR, key: str) -> str:
        """``gs://<bucket>/<key>``."""
        return f"gs://{storage.config['bucket']}/{key}"

    def storage_options(
        self, storage: ResourceIR | None, given: Mapping[str, str]
    ) -> dict[str, str]:
        """The user's options as given: credentials and project come from the environment."""
        return dict(given)

    def filesystem(self, options: Mapping[str, str]) -> Any | None:
        """gcsfs for a custom ``endpoint_url`` (emulators, private endpoints).

        Polars' native GCS client needs a signing service account and an endpoint with
        ETag/HEAD/XML multipart support, which GCS stand-ins lack; gcsfs speaks the JSON API.
        """
        if "endpoint_url" not in options:
            return None
        try:
            import gcsfs  # imported lazily: only the endpoint_url route needs it
        except ImportError as exc:
            msg = (
                "gs:// with a custom endpoint_url goes through gcsfs, which is not installed; "
                "install it: pip install 'glacier[gcsfs]'"
            )
            raise GlacierError(msg) from exc
        return gcsfs.GCSFileSystem(**dict(options))

    def __repr__(self) -> str:
        return "<GCPProvider>"


__all__ = ["EGRESS", "INTER_REGION", "LIMITS", "GCPProvider"]
