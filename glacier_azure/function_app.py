"""The Function App's ``azure.functions`` layer: one HTTP-triggered function running the task.

Imported only inside a Function App, whose bundle installs ``azure-functions``: the Python v2
programming model indexes the ``function_app.py`` at the app's root, which holds
``from glacier_azure.function_app import app``. Everything else is
:func:`glacier_azure.runtime.respond`, which takes the request's body and needs no Azure
package (the tests call it directly).

``POST /api/run`` with ``{"run_id": ..., "params"?: {...}}`` runs the task ``GLACIER_TASK``
names. The function key is required (``GLACIER_HTTP_AUTH_LEVEL=anonymous`` when the platform's
Entra ID authentication guards the app instead).
"""

from __future__ import annotations

import json
import os

import azure.functions as func

from glacier_azure.runtime import respond

#: The function's route (under the host's ``/api`` prefix).
ROUTE = "run"

app = func.FunctionApp(
    http_auth_level=func.AuthLevel(os.environ.get("GLACIER_HTTP_AUTH_LEVEL") or "function")
)


@app.function_name("run")
@app.route(route=ROUTE, methods=["POST"])
def run(req: func.HttpRequest) -> func.HttpResponse:
    """Run the task for the request's run id: 200, 422 (not retryable) or 500 (retryable)."""
    status, body = respond(req.get_body())
    return func.HttpResponse(
        json.dumps(body, default=str), status_code=status, mimetype="application/json"
    )


__all__ = ["ROUTE", "app"]
