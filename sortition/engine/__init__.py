"""The engine: fair distributions over panels, and LEGACY.

Every fair objective has the same shape (``registry.Objective``): a ``UnitInstance`` in, a
``Distribution`` out, with ``EngineSettings`` (``settings``), an optional typed progress callback
(``sortition.progress``) and a time limit. The modules, from the bottom up:

- ``relaxation``: LP relaxations over the quota polytope (``polytope_lp``, the one GLOP model
  of the polytope; a level's bound and duals, the relaxation's LEXIMIN vector);
- ``pricing``: the one CP-SAT model of feasible panels (``panel_model``), the panel oracle and
  the swap search; ``walks``: face walks through the polytope to panels (a step's panel from
  a vertex of the face's LP, rounded and repaired, CP-SAT the fallback);
- ``master``: the master LP over panels; ``columns``: covering, pricing strategy and walk
  driving, shared by every objective;
- ``realise``: a target point realised by panels (walks first, then pricing);
  ``polytope_nash``: NASH over the quota polytope by tangent cuts;
- ``levels`` (LEXIMIN level by level, MAXIMIN), ``leximin``, ``maximin``, ``nash``,
  ``goldilocks``: one module per objective; ``legacy``: the greedy sampler;
- ``registry``: every algorithm by name; ``objectives``: the pool-level entry (types, people);
  ``feasibility``: a feasible panel and the smallest quota relaxation, for ``check``;
- ``errors``: how the engine stops without a distribution.
"""
