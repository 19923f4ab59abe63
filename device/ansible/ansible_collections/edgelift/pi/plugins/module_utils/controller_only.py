"""The entry point of every edgelift.pi module file. Those files only document their module: the work is done
on the controller by the action plugin of the same name, so a module file that runs anywhere else (a device
reached without the collection's action plugins) says so instead of doing half of a deploy."""

from __future__ import annotations


def refuse_to_run_on_device(module: str) -> None:
    raise SystemExit(f"edgelift.pi.{module} runs on the controller through its action plugin; "
                     "it cannot run on the device")
