"""ccas-network core: the minimal Flask core that knows nothing about any partner."""

__version__ = "0.2.0"
