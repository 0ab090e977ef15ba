"""Limits as YAML text (reached only through a relative import)."""

LIMITS = "min: 0\nscale: 2"
