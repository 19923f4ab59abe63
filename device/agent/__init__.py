"""The on-device agent shipped in every bundle (`edgelift_agent.py`: Python 3.9+, numpy and a TFLite runtime).

This package locates the file; the desktop runs it over SSH, and imports from it only the manifest check
(`manifest_problem`), so that a bundle is judged by one rule on both sides.

It stays one file, past the ~500-line rule, on purpose: `edgelift device info` streams it to the device's
Python on stdin (`python3 -`), before anything is installed and with nothing written there, and a package
cannot be run that way; each bundle also carries it as one checksummed (and possibly signed) file that runs
with nothing but the device's Python on its path, so no import can pick up another release's copy.
"""

from __future__ import annotations

from pathlib import Path

AGENT_FILE = Path(__file__).resolve().parent / "edgelift_agent.py"

__all__ = ["AGENT_FILE"]
