"""The longest names Glacier accepts (pipeline 40, task and dataset 63 characters): a
provider either fits every resource name within its limits or refuses with a clear error."""

from __future__ import annotations

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage

SOURCE = "source_dataset_whose_name_is_as_long_as_glacier_allows_it_to_be"
OUTPUT = "output_dataset_whose_name_is_as_long_as_glacier_allows_it_to_be"
FINAL = "final_dataset_whose_name_is_as_long_as_glacier_allows_it_to_be_"

source = Dataset(SOURCE, storage=ObjectStorage())
output = Dataset(OUTPUT)
final = Dataset(FINAL, storage=ObjectStorage())

pipeline = Pipeline(name="pipeline-whose-name-is-as-long-as-allows", schedule="0 1 * * *")


@pipeline.task(
    compute=compute.serverless(env={"KEY": Secret("s")}),
    name="first_task_whose_name_is_as_long_as_glacier_allows_it_to_be_abc",
)
def first(x: source) -> output:
    return x


@pipeline.task(
    compute=compute.container(),
    name="second_task_whose_name_is_as_long_as_glacier_allows_it_to_be_xy",
)
def second(x: output) -> final:
    return x
