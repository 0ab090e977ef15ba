"""A serverless task reading 30 stored datasets, each in its own bucket: its role's grants
(an object and a listing per dataset) once exceeded IAM's 10,240 characters inline (issue 11).

Generated (30 sources, one task, then a container task publishing the result); kept as plain
code so the DAG reads as any pipeline does.
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

pipeline = Pipeline(name="wide_reads")
store_sales_region_00 = Dataset("store_sales_region_00", storage=ObjectStorage())
store_sales_region_01 = Dataset("store_sales_region_01", storage=ObjectStorage())
store_sales_region_02 = Dataset("store_sales_region_02", storage=ObjectStorage())
store_sales_region_03 = Dataset("store_sales_region_03", storage=ObjectStorage())
store_sales_region_04 = Dataset("store_sales_region_04", storage=ObjectStorage())
store_sales_region_05 = Dataset("store_sales_region_05", storage=ObjectStorage())
store_sales_region_06 = Dataset("store_sales_region_06", storage=ObjectStorage())
store_sales_region_07 = Dataset("store_sales_region_07", storage=ObjectStorage())
store_sales_region_08 = Dataset("store_sales_region_08", storage=ObjectStorage())
store_sales_region_09 = Dataset("store_sales_region_09", storage=ObjectStorage())
store_sales_region_10 = Dataset("store_sales_region_10", storage=ObjectStorage())
store_sales_region_11 = Dataset("store_sales_region_11", storage=ObjectStorage())
store_sales_region_12 = Dataset("store_sales_region_12", storage=ObjectStorage())
store_sales_region_13 = Dataset("store_sales_region_13", storage=ObjectStorage())
store_sales_region_14 = Dataset("store_sales_region_14", storage=ObjectStorage())
store_sales_region_15 = Dataset("store_sales_region_15", storage=ObjectStorage())
store_sales_region_16 = Dataset("store_sales_region_16", storage=ObjectStorage())
store_sales_region_17 = Dataset("store_sales_region_17", storage=ObjectStorage())
store_sales_region_18 = Dataset("store_sales_region_18", storage=ObjectStorage())
store_sales_region_19 = Dataset("store_sales_region_19", storage=ObjectStorage())
store_sales_region_20 = Dataset("store_sales_region_20", storage=ObjectStorage())
store_sales_region_21 = Dataset("store_sales_region_21", storage=ObjectStorage())
store_sales_region_22 = Dataset("store_sales_region_22", storage=ObjectStorage())
store_sales_region_23 = Dataset("store_sales_region_23", storage=ObjectStorage())
store_sales_region_24 = Dataset("store_sales_region_24", storage=ObjectStorage())
store_sales_region_25 = Dataset("store_sales_region_25", storage=ObjectStorage())
store_sales_region_26 = Dataset("store_sales_region_26", storage=ObjectStorage())
store_sales_region_27 = Dataset("store_sales_region_27", storage=ObjectStorage())
store_sales_region_28 = Dataset("store_sales_region_28", storage=ObjectStorage())
store_sales_region_29 = Dataset("store_sales_region_29", storage=ObjectStorage())
combined = Dataset("combined", storage=ObjectStorage())


@pipeline.task(compute=compute.serverless())
def combine(
    r00: store_sales_region_00,
    r01: store_sales_region_01,
    r02: store_sales_region_02,
    r03: store_sales_region_03,
    r04: store_sales_region_04,
    r05: store_sales_region_05,
    r06: store_sales_region_06,
    r07: store_sales_region_07,
    r08: store_sales_region_08,
    r09: store_sales_region_09,
    r10: store_sales_region_10,
    r11: store_sales_region_11,
    r12: store_sales_region_12,
    r13: store_sales_region_13,
    r14: store_sales_region_14,
    r15: store_sales_region_15,
    r16: store_sales_region_16,
    r17: store_sales_region_17,
    r18: store_sales_region_18,
    r19: store_sales_region_19,
    r20: store_sales_region_20,
    r21: store_sales_region_21,
    r22: store_sales_region_22,
    r23: store_sales_region_23,
    r24: store_sales_region_24,
    r25: store_sales_region_25,
    r26: store_sales_region_26,
    r27: store_sales_region_27,
    r28: store_sales_region_28,
    r29: store_sales_region_29,
) -> combined:
    return pl.concat(
        [
            r00,
            r01,
            r02,
            r03,
            r04,
            r05,
            r06,
            r07,
            r08,
            r09,
            r10,
            r11,
            r12,
            r13,
            r14,
            r15,
            r16,
            r17,
            r18,
            r19,
            r20,
            r21,
            r22,
            r23,
            r24,
            r25,
            r26,
            r27,
            r28,
            r29,
        ]
    )


published = Dataset("published", storage=ObjectStorage())


@pipeline.task(compute=compute.container())
def publish(rows: combined) -> published:
    return rows
