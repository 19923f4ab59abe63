"""The on-device agent shipped in every bundle (`edgelift_agent.py`: Python 3.9+, numpy and a TFLite runtime).

This package only locates the file; the desktop side never imports the agent, it runs it over SSH.
"""

from __future__ import annotations

from pathlib import Path

AGENT_FILE = Path(__file__).resolve().parent / "edgelift_agent.py"

__all__ = ["AGENT_FILE"]
