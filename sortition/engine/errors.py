"""How the engine stops without a distribution. Anything else it raises is a bug.

The pool-level entry (``sortition.engine.objectives.fair_distribution``) turns these into the
tool's errors: ``NoFeasiblePanel`` into InfeasibleError (exit 3), ``TimeLimitReached`` into
TimeLimitError (exit 4).
"""

from __future__ import annotations


class TimeLimitReached(Exception):
    """The caller's time limit passed before the computation finished."""


class NoFeasiblePanel(Exception):
    """No panel meets the quotas (and the household rule): there is nothing to distribute."""
