"""Seating the assembly: table groups for World Café rounds and round tables (docs/groups.md).

``problem`` holds what is seated (the panel's ids, balance values and the rules), ``design`` the
affine-plane construction in which two people meet at most once, ``search`` the seeded local
search with its deterministic work budget, ``evaluate`` the counts, deviations, repeat pairs and
their lower bounds, ``service`` the use case ``sortition groups`` runs, ``record`` the
``groups`` record ``verify`` re-derives, and ``html`` the printable seating plan.
"""
