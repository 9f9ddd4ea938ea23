"""ccas-network core: the minimal Flask core that knows nothing about any partner."""

__version__ = "0.2.0"

# marshmallow's messages in French, before any schema of the core or a plugin is defined.
from .schemas import french as _french  # noqa: E402

_french.apply()
