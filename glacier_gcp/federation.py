"""Inside Google Cloud: trade the task's own identity for another cloud's short-lived
credentials, so a task reads and writes data stored there without a stored key.

When the stack gives a task a role in AWS (``GLACIER_WEB_IDENTITY=google``, ``AWS_ROLE_ARN``,
``GLACIER_WEB_IDENTITY_AUDIENCE``; see ``glacier_aws/stack/links/federation.py``), the runtime
asks the metadata server for a Google ID token of the task's service account for that
audience, writes it to a private file and points ``AWS_WEB_IDENTITY_TOKEN_FILE`` at it. AWS
clients (Polars' object store, boto3) then call ``AssumeRoleWithWebIdentity`` themselves
and refresh from the file. The token lives an hour, longer than any function runs; it is
fetched again at every invocation.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, MutableMapping

from glacier.runtime.adapter import ConfigurationError

#: The metadata server (``GCE_METADATA_HOST`` moves it, as Google's own libraries allow).
DEFAULT_HOST = "metadata.google.internal"
IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity"
TOKEN_FILE = "glacier-web-identity-token"


def google_id_token(audience: str, host: str | None = None) -> str:
    """An ID token of the service account this code runs as, for ``audience``."""
    query = urllib.parse.urlencode({"audience": audience, "format": "full"})
    url = f"http://{host or os.environ.get('GCE_METADATA_HOST') or DEFAULT_HOST}{IDENTITY_PATH}?{query}"
    request = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode().strip()


def web_identity(
    env: MutableMapping[str, str] = os.environ,
    fetch: Callable[[str], str] = google_id_token,
) -> str | None:
    """Set up the AWS web identity the stack asked for (None when it asked for none): the
    token file's path."""
    if env.get("GLACIER_WEB_IDENTITY") != "google":
        return None
    audience = env.get("GLACIER_WEB_IDENTITY_AUDIENCE")
    if not audience or not env.get("AWS_ROLE_ARN"):
        msg = (
            "GLACIER_WEB_IDENTITY=google needs AWS_ROLE_ARN and GLACIER_WEB_IDENTITY_AUDIENCE; "
            "the compiled stack sets all three: redeploy it (pulumi up)"
        )
        raise ConfigurationError(msg)
    token = fetch(audience)
    path = os.path.join(tempfile.gettempdir(), TOKEN_FILE)
    fd, tmp = tempfile.mkstemp(dir=tempfile.gettempdir(), prefix=f".{TOKEN_FILE}-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp: readable by this user only
        fh.write(token)
    os.replace(tmp, path)
    env["AWS_WEB_IDENTITY_TOKEN_FILE"] = path
    env.setdefault("AWS_ROLE_SESSION_NAME", f"glacier-{env.get('GLACIER_TASK') or 'task'}")
    return path


__all__ = ["google_id_token", "web_identity"]
