"""sortition: draw citizens' assemblies by lot, fairly and verifiably."""

__version__ = "0.1.0"
