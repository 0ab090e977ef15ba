"""Inside Azure: trade the task's managed identity for another cloud's short-lived
credentials, so a task reads and writes data stored there without a stored key.

When the stack gives a task a role in AWS (``GLACIER_WEB_IDENTITY=azure``, ``AWS_ROLE_ARN``,
``GLACIER_WEB_IDENTITY_AUDIENCE``; see ``glacier_azure/stack/aws_link.py``), the runtime asks
the managed identity endpoint Functions and Container Apps give the process
(``IDENTITY_ENDPOINT``, ``IDENTITY_HEADER``) for an Entra ID token of the task's
user-assigned identity (``AZURE_CLIENT_ID``) for that audience, writes it to a private file
and points ``AWS_WEB_IDENTITY_TOKEN_FILE`` at it. AWS clients (Polars' object store, boto3)
then call ``AssumeRoleWithWebIdentity`` themselves. The token lives over an hour, longer than
any task runs; it is fetched again at every invocation.

Such a task reads ``s3://`` and ``az://`` URLs, so its storage options are per provider
(``{"azure": {...}, "aws": {...}}``): the Azure options (its identity, an account) must not
reach the S3 client.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from glacier.runtime.adapter import ConfigurationError

#: The managed identity endpoint's API version (App Service and Container Apps).
API_VERSION = "2019-08-01"
TOKEN_FILE = "glacier-web-identity-token"
#: The value of ``GLACIER_WEB_IDENTITY`` the Azure stack sets for a task reaching AWS.
KIND = "azure"


def managed_identity_token(
    audience: str, env: Mapping[str, str] = os.environ, timeout: float = 10
) -> str:
    """An access token of the task's user-assigned identity for ``audience``."""
    endpoint, secret = env.get("IDENTITY_ENDPOINT"), env.get("IDENTITY_HEADER")
    if not endpoint or not secret:
        msg = (
            "IDENTITY_ENDPOINT and IDENTITY_HEADER are not set: the task needs its managed "
            "identity to reach AWS; run it in the Function App or Container Apps job the stack "
            "deploys (each has a user-assigned identity)"
        )
        raise ConfigurationError(msg)
    query = {"resource": audience, "api-version": API_VERSION}
    if env.get("AZURE_CLIENT_ID"):
        query["client_id"] = env["AZURE_CLIENT_ID"]
    request = urllib.request.Request(
        f"{endpoint}?{urllib.parse.urlencode(query)}", headers={"X-IDENTITY-HEADER": secret}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return str(json.loads(response.read())["access_token"])


def web_identity(
    env: MutableMapping[str, str] = os.environ,
    fetch: Callable[[str], str] | None = None,
) -> str | None:
    """Set up the AWS web identity the stack asked for (None when it asked for none): the
    token file's path."""
    if env.get("GLACIER_WEB_IDENTITY") != KIND:
        return None
    audience = env.get("GLACIER_WEB_IDENTITY_AUDIENCE")
    if not audience or not env.get("AWS_ROLE_ARN"):
        msg = (
            "GLACIER_WEB_IDENTITY=azure needs AWS_ROLE_ARN and GLACIER_WEB_IDENTITY_AUDIENCE; "
            "the compiled stack sets all three: redeploy it (pulumi up)"
        )
        raise ConfigurationError(msg)
    token = fetch(audience) if fetch is not None else managed_identity_token(audience, env)
    directory = tempfile.gettempdir()
    path = os.path.join(directory, TOKEN_FILE)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{TOKEN_FILE}-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp: readable by this user only
        fh.write(token)
    os.replace(tmp, path)
    env["AWS_WEB_IDENTITY_TOKEN_FILE"] = path
    env.setdefault("AWS_ROLE_SESSION_NAME", f"glacier-{env.get('GLACIER_TASK') or 'task'}")
    return path


def _per_provider(options: Mapping[str, Any]) -> bool:
    return bool(options) and all(isinstance(v, Mapping) for v in options.values())


def storage_options(
    env: Mapping[str, str], azure: Callable[[Mapping[str, str]], dict[str, str]]
) -> dict[str, Any]:
    """The task's storage options: ``azure(env)`` (the Azure runtime's own) when it reaches
    no other cloud, else per provider, the Azure ones completed by ``azure``."""
    raw = env.get("GLACIER_STORAGE_OPTIONS") or "{}"
    try:
        given = json.loads(raw)
    except json.JSONDecodeError:
        return azure(env)  # the Azure runtime names the problem
    nested = isinstance(given, dict) and _per_provider(given)
    if not nested and env.get("GLACIER_WEB_IDENTITY") != KIND:
        return azure(env)
    per: dict[str, Any] = dict(given) if nested else {KIND: given}
    found: dict[str, Any] = {
        name: {str(k): str(v) for k, v in opts.items()}
        for name, opts in per.items()
        if name != KIND
    }
    found[KIND] = azure({**env, "GLACIER_STORAGE_OPTIONS": json.dumps(per.get(KIND) or {})})
    return found


__all__ = ["managed_identity_token", "storage_options", "web_identity"]
