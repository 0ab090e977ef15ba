"""The Dockerfile of the image Fargate tasks run: the bundle on a pinned, non-root base.

Reproducible and least-privileged: the base image is named by digest (a tag moves; a digest
is one image forever), every package is pinned (the bundle's ``requirements.txt``, and boto3
to the version installed where ``glacier compile`` runs), and the task runs as an
unprivileged user. The task definition makes the root filesystem read-only and mounts a
writable ``/tmp`` (see ``glacier_compute.fargate_task``), so nothing but ``/tmp`` is written.
"""

from __future__ import annotations

import re
from importlib import metadata

from glacier.errors import CompilationError

#: The official Python image (Docker Hub's ``python``, mirrored unchanged on ECR Public, which
#: a build can pull from without Docker Hub's rate limit), pinned by the digest of its
#: multi-platform index, so amd64 and arm64 builds start from the same release.
#: ``python:3.12-slim`` as published in autumn 2026 (Python 3.12.14; seen 2026-10-01).
#: Update: ``docker buildx imagetools inspect public.ecr.aws/docker/library/python:3.12-slim``,
#: take the index digest (the first ``Digest:``), and recompile.
BASE_IMAGES = {
    "3.12": "public.ecr.aws/docker/library/python:3.12-slim"
    "@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea",
}
#: The Python version Fargate tasks run (see glacier_aws.model: ``runtime="python3.12"``).
FARGATE_PYTHON = "3.12"
#: boto3 when it is not installed where the compiler runs (the version constraints.txt pins):
#: the container has it as the Lambda runtime does, so a task's code may use it on both.
BOTO3_FALLBACK = "1.44.8"
#: An image reference pinned by digest: ``<name>[:<tag>]@sha256:<64 hex>``.
_PINNED = re.compile(r"[a-z0-9][a-z0-9._/:-]*(:[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}")
#: The unprivileged user the task runs as (not root; no login shell, no home to write).
USER_ID = 10001


def container_base_image(override: str | None) -> str:
    """The base image: ``override`` (``AWSCompiler(base_image=...)``) if given, which must
    be pinned by digest, else the pinned official image for the tasks' Python."""
    if override is None:
        return BASE_IMAGES[FARGATE_PYTHON]
    if not isinstance(override, str) or not _PINNED.fullmatch(override):
        msg = (
            f"AWSCompiler: base_image must name an image by digest "
            f"('<name>[:<tag>]@sha256:<64 hex digits>'), found {override!r}; a tag alone may "
            "point at another image tomorrow: pin its digest (docker buildx imagetools inspect)"
        )
        raise CompilationError(msg)
    return override


def boto3_version() -> str:
    """The installed boto3's version, else :data:`BOTO3_FALLBACK`."""
    try:
        return metadata.version("boto3")
    except metadata.PackageNotFoundError:
        return BOTO3_FALLBACK


def dockerfile(base_image: str) -> str:
    """The Dockerfile in ``app/`` (built by ``pulumi up``, see ``glacier_compute``)."""
    return f"""\
# The image Fargate tasks run: the same bundle as the Lambda functions.
# The base image is pinned by digest and every package by version; the task runs as an
# unprivileged user, on a read-only root filesystem with a writable /tmp (task definition).
FROM {base_image}
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt boto3=={boto3_version()}
COPY . .
RUN python -m compileall -q /app && \\
    groupadd --system --gid {USER_ID} glacier && \\
    useradd --system --uid {USER_ID} --gid {USER_ID} --no-create-home \\
        --shell /usr/sbin/nologin glacier
USER {USER_ID}:{USER_ID}
ENV GLACIER_MANIFEST=manifest.json PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1 \\
    HOME=/tmp TMPDIR=/tmp
"""


__all__ = ["BASE_IMAGES", "boto3_version", "container_base_image", "dockerfile"]
