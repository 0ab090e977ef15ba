"""A module that defines no Pipeline."""

from __future__ import annotations

from glacier import Dataset

lonely = Dataset("lonely")
