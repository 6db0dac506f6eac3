"""The one place the package version lives (read by hatch and by the server's status route)."""

__version__ = "0.1.0"
