"""The on-device agent shipped in every bundle (`edgelift_agent.py`: Python 3.9+, numpy and a TFLite runtime).

This package locates the file; the desktop runs it over SSH, and imports from it only the manifest check
(`manifest_problem`), so that a bundle is judged by one rule on both sides.
"""

from __future__ import annotations

from pathlib import Path

AGENT_FILE = Path(__file__).resolve().parent / "edgelift_agent.py"

__all__ = ["AGENT_FILE"]
