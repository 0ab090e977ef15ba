"""A container task with 40 stored inputs, each in its own bucket: its role's grants once
exceeded IAM's 10,240 characters inline (issue 11).

Generated (40 sources, one task, then a serverless summary); kept as plain code so the DAG
reads as any pipeline does.
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

pipeline = Pipeline(name="wide_container")
daily_extract_00 = Dataset("daily_extract_00", storage=ObjectStorage())
daily_extract_01 = Dataset("daily_extract_01", storage=ObjectStorage())
daily_extract_02 = Dataset("daily_extract_02", storage=ObjectStorage())
daily_extract_03 = Dataset("daily_extract_03", storage=ObjectStorage())
daily_extract_04 = Dataset("daily_extract_04", storage=ObjectStorage())
daily_extract_05 = Dataset("daily_extract_05", storage=ObjectStorage())
daily_extract_06 = Dataset("daily_extract_06", storage=ObjectStorage())
daily_extract_07 = Dataset("daily_extract_07", storage=ObjectStorage())
daily_extract_08 = Dataset("daily_extract_08", storage=ObjectStorage())
daily_extract_09 = Dataset("daily_extract_09", storage=ObjectStorage())
daily_extract_10 = Dataset("daily_extract_10", storage=ObjectStorage())
daily_extract_11 = Dataset("daily_extract_11", storage=ObjectStorage())
daily_extract_12 = Dataset("daily_extract_12", storage=ObjectStorage())
daily_extract_13 = Dataset("daily_extract_13", storage=ObjectStorage())
daily_extract_14 = Dataset("daily_extract_14", storage=ObjectStorage())
daily_extract_15 = Dataset("daily_extract_15", storage=ObjectStorage())
daily_extract_16 = Dataset("daily_extract_16", storage=ObjectStorage())
daily_extract_17 = Dataset("daily_extract_17", storage=ObjectStorage())
daily_extract_18 = Dataset("daily_extract_18", storage=ObjectStorage())
daily_extract_19 = Dataset("daily_extract_19", storage=ObjectStorage())
daily_extract_20 = Dataset("daily_extract_20", storage=ObjectStorage())
daily_extract_21 = Dataset("daily_extract_21", storage=ObjectStorage())
daily_extract_22 = Dataset("daily_extract_22", storage=ObjectStorage())
daily_extract_23 = Dataset("daily_extract_23", storage=ObjectStorage())
daily_extract_24 = Dataset("daily_extract_24", storage=ObjectStorage())
daily_extract_25 = Dataset("daily_extract_25", storage=ObjectStorage())
daily_extract_26 = Dataset("daily_extract_26", storage=ObjectStorage())
daily_extract_27 = Dataset("daily_extract_27", storage=ObjectStorage())
daily_extract_28 = Dataset("daily_extract_28", storage=ObjectStorage())
daily_extract_29 = Dataset("daily_extract_29", storage=ObjectStorage())
daily_extract_30 = Dataset("daily_extract_30", storage=ObjectStorage())
daily_extract_31 = Dataset("daily_extract_31", storage=ObjectStorage())
daily_extract_32 = Dataset("daily_extract_32", storage=ObjectStorage())
daily_extract_33 = Dataset("daily_extract_33", storage=ObjectStorage())
daily_extract_34 = Dataset("daily_extract_34", storage=ObjectStorage())
daily_extract_35 = Dataset("daily_extract_35", storage=ObjectStorage())
daily_extract_36 = Dataset("daily_extract_36", storage=ObjectStorage())
daily_extract_37 = Dataset("daily_extract_37", storage=ObjectStorage())
daily_extract_38 = Dataset("daily_extract_38", storage=ObjectStorage())
daily_extract_39 = Dataset("daily_extract_39", storage=ObjectStorage())
merged = Dataset("merged", storage=ObjectStorage())


@pipeline.task(compute=compute.container())
def merge(
    e00: daily_extract_00,
    e01: daily_extract_01,
    e02: daily_extract_02,
    e03: daily_extract_03,
    e04: daily_extract_04,
    e05: daily_extract_05,
    e06: daily_extract_06,
    e07: daily_extract_07,
    e08: daily_extract_08,
    e09: daily_extract_09,
    e10: daily_extract_10,
    e11: daily_extract_11,
    e12: daily_extract_12,
    e13: daily_extract_13,
    e14: daily_extract_14,
    e15: daily_extract_15,
    e16: daily_extract_16,
    e17: daily_extract_17,
    e18: daily_extract_18,
    e19: daily_extract_19,
    e20: daily_extract_20,
    e21: daily_extract_21,
    e22: daily_extract_22,
    e23: daily_extract_23,
    e24: daily_extract_24,
    e25: daily_extract_25,
    e26: daily_extract_26,
    e27: daily_extract_27,
    e28: daily_extract_28,
    e29: daily_extract_29,
    e30: daily_extract_30,
    e31: daily_extract_31,
    e32: daily_extract_32,
    e33: daily_extract_33,
    e34: daily_extract_34,
    e35: daily_extract_35,
    e36: daily_extract_36,
    e37: daily_extract_37,
    e38: daily_extract_38,
    e39: daily_extract_39,
) -> merged:
    return pl.concat(
        [
            e00,
            e01,
            e02,
            e03,
            e04,
            e05,
            e06,
            e07,
            e08,
            e09,
            e10,
            e11,
            e12,
            e13,
            e14,
            e15,
            e16,
            e17,
            e18,
            e19,
            e20,
            e21,
            e22,
            e23,
            e24,
            e25,
            e26,
            e27,
            e28,
            e29,
            e30,
            e31,
            e32,
            e33,
            e34,
            e35,
            e36,
            e37,
            e38,
            e39,
        ]
    )


summary = Dataset("summary", storage=ObjectStorage())


@pipeline.task(compute=compute.serverless())
def summarize(rows: merged) -> summary:
    return rows.head(10)
