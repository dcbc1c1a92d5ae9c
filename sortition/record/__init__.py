"""The records: building them, reading them back, the canonical digests, and the draw from a
commitment and a seed.
"""
