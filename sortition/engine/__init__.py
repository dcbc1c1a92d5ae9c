"""The engine: fair distributions over panels (the relaxation over the quota polytope, face walks,
the master LP and pricing, one module per objective) and LEGACY.
"""
