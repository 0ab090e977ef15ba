"""What Glacier's core knows of Google Cloud: the object registered as the ``gcp`` provider.

GCS is usable in local and remote runs today; compiling to GCP is not built in this
version, so :meth:`GCPProvider.compiler` says so (``compiles`` is False).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

from glacier.compilation.provider import Price, no_compiler
from glacier.errors import GlacierError
from glacier_gcp.naming import NAME_RULES

if TYPE_CHECKING:
    from glacier.ir import ResourceIR

#: Internet egress out of Google Cloud, Premium Tier (the default), first paid tier (0-1 TiB).
EGRESS = Price(0.12, "GB", as_of="2026-11", source="https://cloud.google.com/vpc/network-pricing")


class GCPProvider:
    """Glacier's GCP provider: GCS storage; Cloud Functions and Cloud Run declarations."""

    name = "gcp"
    package = "glacier_gcp"
    runtime = ""  # no deployed functions yet: nothing calls into a bundle
    schemes = ("gs", "gcs")
    storage_class = "glacier_gcp.storage.GCS"
    egress = EGRESS
    name_rules = MappingProxyType(NAME_RULES)
    limits: Mapping[str, int] = MappingProxyType({})  # declared with the compiler
    compiles = False

    def compiler(self) -> NoReturn:
        """Compiling to GCP is not built in this version: a one-line error saying so."""
        from glacier.compilation.registry import built_providers

        raise no_compiler(self.name, self.package, built_providers())

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


__all__ = ["EGRESS", "GCPProvider"]
