"""Stage 1: the invitation lottery from a registry (reading it, ranks, allocation to strata, the
service, Dask) and matching the registrations.
"""
