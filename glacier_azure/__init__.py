"""Glacier's Azure provider package (Blob Storage, Functions, Container Apps jobs).

Not built yet: the core reports a clear error when ``--target azure`` is asked for. The
package exists so the distribution layout (one wheel, four packages) is fixed from the start.
"""
