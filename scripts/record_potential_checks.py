#!/usr/bin/python3
"""record_potential_checks.py — records what a shipped potential predicts, right after training,
for tests/test_potentials.c to compare against: potentials/checks/<name>.extxyz holds rattled and
strained cells of the potential's element with the energy, forces and stress it gave.

    /usr/bin/python3 scripts/record_potential_checks.py potentials/Si-mlearn-megnet.h5 Si

Run it again (and commit the result) only when a potential is deliberately replaced.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from ase.build import bulk
from ase.io import write

LATTICE = {"Si": ("diamond", 5.47), "Mo": ("bcc", 3.17), "Li": ("bcc", 3.43)}


def frames(element, seed=7):
    """A strained, rattled conventional cell; a rattled 2x2x2 primitive supercell with a
    shear; the primitive cell compressed by 3 % (seeded: the same frames every time)."""
    lattice, a = LATTICE[element]
    rng = np.random.default_rng(seed)
    conv = bulk(element, lattice, a=a, cubic=True)
    conv.set_cell(conv.cell.array @ np.diag([1.01, 0.995, 1.0]), scale_atoms=True)
    conv.positions += rng.normal(0, 0.05, conv.positions.shape)
    sup = bulk(element, lattice, a=a).repeat((2, 2, 2))
    shear = np.eye(3)
    shear[0, 1] = shear[1, 0] = 0.01
    sup.set_cell(sup.cell.array @ shear, scale_atoms=True)
    sup.positions += rng.normal(0, 0.08, sup.positions.shape)
    small = bulk(element, lattice, a=a * 0.97)
    return [conv, sup, small]


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in LATTICE:
        sys.exit("usage: record_potential_checks.py potentials/NAME.h5 Si|Mo|Li")
    model, element = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    mlpot = os.environ.get("MLPOT_BINARY", os.path.join(root, "build", "mlpot"))
    name = os.path.splitext(os.path.basename(model))[0]
    out = os.path.join(root, "potentials", "checks", name + ".extxyz")
    with tempfile.TemporaryDirectory() as tmp:
        inputs = os.path.join(tmp, "inputs.extxyz")
        write(inputs, frames(element), format="extxyz")
        subprocess.run([mlpot, "predict", inputs, "--model", os.path.relpath(model, root),
                        "--format", "extxyz", "-o", out], check=True, cwd=root)
    print(f"recorded {out}")


if __name__ == "__main__":
    main()
