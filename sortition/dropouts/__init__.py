"""Dropouts: fair replacements drawn from the candidates with derived quotas, chained to the
original selection record (``replace``), and alternates chosen right after the draw."""
