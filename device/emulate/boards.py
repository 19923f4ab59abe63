"""The Raspberry Pi boards the cost meter emulates: which CPU qemu models, which core llvm-mca schedules for,
the clock that turns cycles into milliseconds, and the /proc/cpuinfo the guest is shown.

qemu-user shows the guest the host's /proc/cpuinfo; XNNPACK (through the cpuinfo library) reads it to pick its
kernels, so each board brings its own copy, laid over the emulated root (see pi_root.board_root).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgelift.errors import InvalidArgumentError


@dataclass(frozen=True)
class Board:
    name: str
    title: str
    qemu_cpu: str        # qemu 7.2's -cpu model
    mca_cpu: str         # llvm-mca -mcpu
    mca_attrs: str       # llvm-mc/llvm-mca -mattr: the instructions the core decodes
    clock_ghz: float     # the board's maximum clock (Raspberry Pi OS default)
    neon_kernels: str    # the delegate's kernels=auto choice on this core
    cores: int
    cpu_part: str        # MIDR part number, as /proc/cpuinfo prints it
    cpu_variant: str
    cpu_revision: int
    features: str        # /proc/cpuinfo "Features"

    def cpuinfo(self) -> str:
        """The /proc/cpuinfo text of this board (the fields Linux prints on arm64)."""
        block = ("processor\t: {i}\nBogoMIPS\t: 108.00\nFeatures\t: {f}\nCPU implementer\t: 0x41\n"
                 "CPU architecture: 8\nCPU variant\t: {v}\nCPU part\t: {p}\nCPU revision\t: {r}\n\n")
        return "".join(block.format(i=i, f=self.features, v=self.cpu_variant, p=self.cpu_part, r=self.cpu_revision)
                       for i in range(self.cores))


BOARDS = {
    "rpi4": Board(
        name="rpi4", title="Raspberry Pi 4 (Cortex-A72, 1.8 GHz)", qemu_cpu="cortex-a72", mca_cpu="cortex-a72",
        mca_attrs="+neon,+crc", clock_ghz=1.8, neon_kernels="neon", cores=4, cpu_part="0xd08", cpu_variant="0x0",
        cpu_revision=3, features="fp asimd evtstrm crc32 cpuid"),
    "rpi5": Board(
        name="rpi5", title="Raspberry Pi 5 (Cortex-A76, 2.4 GHz)", qemu_cpu="cortex-a76", mca_cpu="cortex-a76",
        mca_attrs="+neon,+crc,+lse,+rdm,+rcpc,+fullfp16,+dotprod,+crypto", clock_ghz=2.4, neon_kernels="dot",
        cores=4, cpu_part="0xd0b", cpu_variant="0x4", cpu_revision=1,
        features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop "
                 "asimddp"),
}


def board(name: str) -> Board:
    """The board called `name` (rpi4 | rpi5), or one clear error listing them."""
    key = (name or "").strip().lower().replace(" ", "")
    key = {"pi4": "rpi4", "pi5": "rpi5", "raspberrypi4": "rpi4", "raspberrypi5": "rpi5"}.get(key, key)
    if key not in BOARDS:
        raise InvalidArgumentError(f"unknown board {name!r} for --emulate; allowed: {', '.join(BOARDS)}",
                                   hint="--emulate rpi4 (Cortex-A72) or --emulate rpi5 (Cortex-A76)")
    return BOARDS[key]
