"""A project of several modules for the function-bundle tests: a package with helpers (one
reached only through a relative import, one through a package ``__init__``), a third-party
import (``yaml``), and a declared requirement the code imports by name at run time."""
