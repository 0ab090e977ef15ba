"""Hostile strings wherever a user may put free text; the compiler must keep them inert."""

from __future__ import annotations

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

HOSTILE = (
    '"); import os; os.system("rm -rf /") #',
    "'''\nimport os\n'''",
    '"""\nimport os\n"""',
    "\\x00\\n{run_id}${HOME}`whoami`",
    "line one\nline two\r\n\ttab",
    "ünïcødé ✓ 数据 🚀 \u202e",
    "{__import__('os').system('id')}",
)

raw = Dataset(
    "raw",
    storage=ObjectStorage(),
    description=HOSTILE[0] + HOSTILE[1],
    metadata={"owner": HOSTILE[2], HOSTILE[3]: [HOSTILE[4], {"k": HOSTILE[5]}]},
)
out = Dataset("out", storage=ObjectStorage(), description=HOSTILE[6])

pipeline = Pipeline(name="hostile", description=HOSTILE[0] + HOSTILE[5])

ENV = {f"VAR_{i}": text for i, text in enumerate(HOSTILE)}


@pipeline.task(compute=compute.serverless(env=ENV), description=HOSTILE[1])
def clean(data: raw) -> out:
    return data
