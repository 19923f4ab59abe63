"""`convert --target rpi4|rpi5`: the board whose NEON sparse kernels the pruning is shaped for.

The boards and their kernels come from `edgelift.delegates.neon.sparse_rule` (the Python twin of the delegate's
cost rule), so the converter, `inspect` and the delegate agree on one definition.
"""

from __future__ import annotations

from edgelift.delegates.neon import sparse_rule
from edgelift.errors import InvalidArgumentError

TARGETS = tuple(sparse_rule.KERNELS)  # ("rpi4", "rpi5")
BOARD_NAMES = {"rpi4": "Pi 4", "rpi5": "Pi 5"}
# board -> the block (output x input channels) its sparse kernel skips whole: 16 output channels (the dense 4x16
# kernels' column width on both boards) x 4 consecutive input values
KERNEL_BLOCK: dict[str, tuple[int, int]] = {board: sparse_rule.BLOCK for board in TARGETS}


def check_target(value) -> str | None:
    """None (no target: the report names every board) or one of TARGETS; anything else is refused by value."""
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().lower() not in TARGETS:
        raise InvalidArgumentError(f"--target {value!r} is not one of {', '.join(TARGETS)}",
                                   hint="use --target rpi4 (Raspberry Pi 4) or --target rpi5 (Raspberry Pi 5), "
                                        "or leave it out to see both boards in the report")
    return value.strip().lower()


def default_block(target: str) -> str:
    """The --block that `--prune-kind block` uses on `target` when none is given, e.g. '16x4'."""
    rows, cols = KERNEL_BLOCK[target]
    return f"{rows}x{cols}"


def kernel_skips(block: tuple[int, int], target: str) -> bool:
    """Whether every pruned RxC block is made of whole kernel blocks (R any multiple of the kernel's rows, C of
    its columns); otherwise only zeros that happen to line up are skipped."""
    rows, cols = KERNEL_BLOCK[target]
    return block[0] % rows == 0 and block[1] % cols == 0


def boards(target: str | None) -> list[str]:
    """The boards the report predicts for: the target, or all of them."""
    return [target] if target else list(TARGETS)
