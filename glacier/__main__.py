"""``python -m glacier``: the ``glacier`` command line."""

from __future__ import annotations

from glacier.cli import main

raise SystemExit(main())
