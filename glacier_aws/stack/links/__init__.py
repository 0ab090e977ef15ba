"""Deploy-time helpers another provider's stack copies to reach AWS (glacier_aws_federation.py)."""
