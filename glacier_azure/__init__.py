"""Glacier's Azure provider: Blob Storage, Functions and Container Apps compute, and the Azure
compiler (a Logic App running the DAG, per-task managed identities, Key Vault).

Importing this package never imports pulumi or an Azure SDK: the same package runs inside
Azure Functions and Container Apps jobs (``glacier_azure.runtime``), where neither is needed.
The compiler generates Pulumi program *text*; only the generated program imports pulumi.
"""

from __future__ import annotations

from glacier_azure.compiler import AzureCompiler
from glacier_azure.compute import AzureFunction, ContainerApp
from glacier_azure.hints import check_storage_hints
from glacier_azure.provider import AzureProvider
from glacier_azure.storage import BlobStorage

__all__ = [
    "AzureCompiler",
    "AzureFunction",
    "AzureProvider",
    "BlobStorage",
    "ContainerApp",
    "check_storage_hints",
]
