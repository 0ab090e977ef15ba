"""A small interpreter of the Logic Apps workflow language subset the Azure compiler emits.

It runs a definition's control flow the way Logic Apps does: every action whose ``runAfter``
is satisfied starts in the same wave (siblings run in parallel), ``Until`` loops repeat their
actions until their expression holds or their count runs out, ``If`` picks a branch,
``Terminate`` ends the run, ``Compose`` evaluates its inputs, an action whose ``runAfter``
names statuses besides Succeeded runs after a failure, an ``Http`` action is retried by its ``retryPolicy`` on 408, 429
and 5xx answers. Expressions are parsed (functions, string literals, numbers, ``?['key']``
and ``['key']`` accessors): an expression the interpreter cannot read fails the test.
HTTP calls go to a function the test supplies, ``http(method, uri, body) -> (status, body)``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Http = Callable[[str, str, Any], tuple[int, Any]]
RETRIED = (408, 429)
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\?\[|\[|\]|\(|\)|,))"
)


class Terminated(Exception):
    pass


@dataclass
class _Parser:
    text: str
    pos: int = 0

    def token(self) -> tuple[str, str]:
        found = _TOKEN.match(self.text, self.pos)
        assert found, f"cannot read expression at {self.text[self.pos :]!r}"
        self.pos = found.end()
        kind = found.lastgroup or ""
        return kind, found.group(kind)

    def peek(self) -> str:
        found = _TOKEN.match(self.text, self.pos)
        return found.group(found.lastgroup or "") if found else ""


@dataclass
class Run:
    """One run of a definition: outputs, statuses, the wave each action started in."""

    http: Http
    trigger_body: Any = None
    children: Mapping[str, Any] = field(default_factory=dict)
    run_name: str = "08584000000000000000CU00"
    variables: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    responses: dict[str, Any] = field(default_factory=dict)  # outputs(): status and body
    status: dict[str, str] = field(default_factory=dict)
    waves: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    wave: int = 0
    failed: str | None = None

    # -- expressions ---------------------------------------------------------------------

    def value(self, text: str) -> Any:
        """A JSON value: ``@expr`` evaluated, ``@{expr}`` interpolated, else as is."""
        if text.startswith("@{") or "@{" in text:
            return re.sub(r"@\{(.*?)\}", lambda m: str(self.expr(m.group(1))), text)
        if text.startswith("@"):
            return self.expr(text[1:])
        return text

    def expr(self, text: str) -> Any:
        parser = _Parser(text)
        result = self._term(parser)
        assert parser.pos == len(text.rstrip()), f"trailing text in {text!r}"
        return result

    def _term(self, p: _Parser) -> Any:
        kind, tok = p.token()
        if kind == "str":
            result: Any = tok[1:-1].replace("''", "'")
        elif kind == "num":
            result = int(tok)
        elif tok in ("true", "false"):
            result = tok == "true"
        else:
            assert kind == "name", f"unexpected {tok!r}"
            assert p.token()[1] == "(", f"{tok} must be called"
            args = []
            while p.peek() != ")":
                args.append(self._term(p))
                if p.peek() == ",":
                    p.token()
            p.token()
            result = self._call(tok, args)
        while p.peek() in ("?[", "["):
            safe = p.token()[1] == "?["
            key = self._term(p)
            assert p.token()[1] == "]"
            if result is None:
                assert safe, f"[{key!r}] on null"
                continue
            result = result.get(key) if safe else result[key]
        return result

    def _call(self, name: str, args: list[Any]) -> Any:
        functions: dict[str, Callable[..., Any]] = {
            "equals": lambda a, b: a == b,
            "and": lambda *a: all(a),
            "or": lambda *a: any(a),
            "concat": lambda *a: "".join(str(x) for x in a),
            "string": lambda a: a if isinstance(a, str) else json.dumps(a, separators=(",", ":")),
            "outputs": lambda n: self.responses.get(n),
            "contains": lambda a, b: b in a,
            "createArray": lambda *a: list(a),
            "coalesce": lambda *a: next((x for x in a if x is not None), None),
            "variables": lambda n: self.variables[n],
            "body": lambda n: self.outputs.get(n),
            "workflow": lambda: {"run": {"name": self.run_name}},
            "triggerBody": lambda: self.trigger_body,
        }
        assert name in functions, f"unknown function {name}"
        return functions[name](*args)

    def data(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.value(obj)
        if isinstance(obj, list):
            return [self.data(x) for x in obj]
        if isinstance(obj, dict):
            return {k: self.data(v) for k, v in obj.items()}
        return obj

    # -- control flow --------------------------------------------------------------------

    def scope(self, actions: Mapping[str, Any]) -> None:
        """Run ``actions`` wave by wave until none can start."""
        done: set[str] = set()
        while True:
            ready = [n for n, a in actions.items() if n not in done and all(
                self.status.get(u) in want for u, want in a.get("runAfter", {}).items())]  # fmt: skip
            if not ready:
                return
            self.wave += 1
            for name in ready:
                self.waves[name] = self.wave
            for name in ready:
                self.action(name, actions[name])
                done.add(name)

    def action(self, name: str, a: Mapping[str, Any]) -> None:
        kind = a["type"]
        ok = True
        if kind == "InitializeVariable":
            for v in a["inputs"]["variables"]:
                self.variables[v["name"]] = self.value(v["value"])
        elif kind == "Http":
            ok = self._http(name, a["inputs"])
        elif kind == "Until":
            for _ in range(a["limit"]["count"]):
                for inner in a["actions"]:
                    self.status.pop(inner, None)
                self.scope(a["actions"])
                if self.value(a["expression"]):
                    break
        elif kind == "If":
            (test,) = a["expression"]["and"]
            left, right = test["equals"]
            branch = a["actions"] if self.value(left) == right else a["else"]["actions"]
            self.scope(branch)
        elif kind == "Workflow":
            child = self.children[a["inputs"]["host"]["workflow"]["id"]]
            inner = Run(self.http, self.data(a["inputs"]["body"]), children=self.children)
            inner.wave = self.wave
            inner.scope(child["actions"])
            self.calls += inner.calls
            self.waves.update(inner.waves)
            self.status.update({f"{name}/{k}": v for k, v in inner.status.items()})
            ok = inner.status.get("done") == "Succeeded"
        elif kind == "Compose":
            self.responses[name] = self.data(a["inputs"])
        elif kind == "Response":
            pass
        elif kind == "Terminate":
            self.failed = a["inputs"]["runError"]["message"]
            raise Terminated(self.failed)
        elif kind != "Wait":
            raise AssertionError(f"action {name}: unknown type {kind}")
        self.status[name] = "Succeeded" if ok else "Failed"

    def _http(self, name: str, inputs: Mapping[str, Any]) -> bool:
        policy = inputs.get("retryPolicy", {"type": "default"})
        tries = 1 + (policy.get("count", 0) if policy["type"] == "exponential" else 0)
        status, body = 0, None
        for _ in range(tries):
            call = (inputs["method"], self.value(inputs["uri"]), self.data(inputs.get("body")))
            self.calls.append(call)
            status, body = self.http(*call)
            if status < 300 or not (status in RETRIED or status >= 500):
                break
        self.outputs[name] = body
        self.responses[name] = {"statusCode": status, "body": body}
        return status < 300


def execute(definition: Mapping[str, Any], http: Http, trigger_body: Any = None,
            children: Mapping[str, Any] | None = None) -> Run:  # fmt: skip
    """Run ``definition`` once (``children``: child definitions by the id its ``Workflow``
    actions name); a Terminate ends it (``run.failed`` says why)."""
    run = Run(http, trigger_body, children=children or {})
    with contextlib.suppress(Terminated):
        run.scope(definition["actions"])
    return run
