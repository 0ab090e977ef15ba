"""Hostile text wherever a user may put free text, for the conformance suite.

``pipeline`` carries the corpus; ``benign`` is the same pipeline built from plain text. A
compiler keeps user text inert when the two compile to the same code and definitions, with
only the values of string constants differing.
"""

from __future__ import annotations

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage

HOSTILE = (
    # The AWS suite's corpus (tests/pipelines/aws_hostile.py): quotes closing a literal,
    # triple quotes, escapes, newlines, unicode (with a right-to-left override), a format field.
    '"); import os; os.system("rm -rf /") #',
    "'''\nimport os\n'''",
    '"""\nimport os\n"""',
    "\\x00\\n{run_id}${HOME}`whoami`",
    "line one\nline two\r\n\ttab",
    "ünïcødé ✓ 数据 🚀 \u202e",
    "{__import__('os').system('id')}",
    # Template and expression syntaxes of the orchestrators and their tools.
    "${sys.get_env('GOOGLE_CLOUD_PROJECT_ID')}${{ secrets.TOKEN }}",
    "{{ config.items() }}{% for x in y %}{{ x }}{% endfor %}",
    "@{triggerBody()}@concat('a', 'b')",
    "$.run_id",
    "States.Format('{}', $.run_id)",
    "{% $states.input %}",
    "C:\\temp\\new\\ \\",
    "\\u0041\\N{DIGIT ONE}",
    "%(name)s %s {0} {}",
    "\u2028\u2029\x0b\x0c",
    "<script>alert(1)</script>--> */ --; DROP TABLE x; /*",
)
BENIGN = tuple(f"plain text {i}" for i in range(len(HOSTILE)))
#: Secret names are restricted to ``[A-Za-z0-9][A-Za-z0-9/_+=.@-]*``; these use every symbol.
HOSTILE_SECRETS = ("team/db+pass=word@prod.eu-west_1", "a" * 128)
BENIGN_SECRETS = ("plain/two", "plain/one")  # sorted like the hostile ones


def env_values(texts: tuple[str, ...]) -> dict[str, str]:
    return {f"VAR_{i}": text for i, text in enumerate(texts)}


def build(texts: tuple[str, ...], secrets: tuple[str, str]) -> Pipeline:
    """The pipeline, with ``texts`` in every free-text field and ``secrets`` as secret names."""
    t = texts
    raw = Dataset(
        "raw",
        storage=ObjectStorage(),
        description=t[0],
        metadata={"owner": t[1], t[2]: [t[3], {"k": t[4]}]},
    )
    mid = Dataset("mid", description=t[5], metadata={"note": t[6]})
    out = Dataset("out", storage=ObjectStorage(), description=t[7], metadata={t[8]: t[9]})
    pipeline = Pipeline(name="hostile", description=t[10])
    env = env_values(texts)

    @pipeline.task(
        compute=compute.serverless(env={**env, "API_KEY": Secret(secrets[0])}),
        description=t[11],
    )
    def clean(data: raw, note: str = t[12]) -> mid:
        return data

    @pipeline.task(
        compute=compute.container(env={**env, "TOKEN": Secret(secrets[1])}), description=t[13]
    )
    def publish(data: mid, label: str = t[14]) -> out:
        return data

    return pipeline


pipeline = build(HOSTILE, HOSTILE_SECRETS)
benign = build(BENIGN, BENIGN_SECRETS)
