"""The provider conformance suite: one set of provider-neutral tests every provider passes."""
