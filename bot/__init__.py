"""Interview Coach: mock technical interviews and daily practice, offline."""

__version__ = "0.1.0"
