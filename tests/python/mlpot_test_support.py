"""mlpot_test_support.py — what the Python tests share: paths (source tree, shipped Si model,
the mlpot binary), structures built from the shipped crystals, an exact extended XYZ writer,
`mlpot predict --format json` and a relative-deviation measure.

ctest sets PYTHONPATH, MLPOT_LIBRARY and MLPOT_BINARY (tests/CMakeLists.txt); run by hand,
`PYTHONPATH=python /usr/bin/python3 tests/python/test_model.py` uses build/."""

import json
import os
import subprocess

import numpy as np
from ase import Atoms

import mlpot

SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# A shipped Si potential; it will be retrained, so tests never hard-code its energies.
SI_MODEL = os.path.join(SOURCE_DIR, "potentials", "previous", "Si-mlearn-cgcnn.h5")
BINARY = os.environ.get("MLPOT_BINARY", os.path.join(SOURCE_DIR, "build", "mlpot"))


def structure_path(name):
    return os.path.join(SOURCE_DIR, "structures", name)


def atoms_from_file(name):
    """A shipped crystal as ase.Atoms with exactly the coordinates libmlpot reads."""
    s = mlpot.read(structure_path(name))[0]
    return Atoms(numbers=s.numbers, positions=s.positions, cell=s.cell, pbc=s.pbc)


def si_cell(repeat=1, rattle=0.0, strain=None, seed=1):
    """structures/Si.vasp (8 atoms), repeated repeat^3 times, cell deformed by (1 + strain)
    with the atoms following, then displaced by N(0, rattle^2) Å per coordinate."""
    atoms = atoms_from_file("Si.vasp").repeat(repeat)
    if strain is not None:
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + np.asarray(strain)), scale_atoms=True)
    if rattle:
        atoms.rattle(stdev=rattle, seed=seed)
    return atoms


def write_extxyz(path, atoms):
    """Extended XYZ with every number printed to round-trip exactly (repr), so that
    `mlpot predict` reads the same doubles the Python side computes with."""
    pbc = " ".join("T" if p else "F" for p in atoms.pbc)
    header = f'Properties=species:S:1:pos:R:3 pbc="{pbc}"'
    if atoms.pbc.any():
        lattice = " ".join(repr(float(x)) for x in atoms.cell.array.ravel())
        header = f'Lattice="{lattice}" ' + header
    lines = [str(len(atoms)), header]
    for symbol, position in zip(atoms.get_chemical_symbols(), atoms.positions):
        lines.append(" ".join([symbol] + [repr(float(x)) for x in position]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def predict_json(model, structure_file):
    """The first frame's `mlpot predict --format json --per-atom` object."""
    out = subprocess.run([BINARY, "predict", structure_file, "--model", model, "--format", "json",
                          "--per-atom"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[0])


def python_env(**overrides):
    """Environment for a child Python that imports this same package and library by absolute
    paths (relative ones break when the child runs elsewhere), with overrides applied."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(mlpot.__file__)))
    env = dict(os.environ, PYTHONPATH=package_root, MLPOT_LIBRARY=mlpot.library_path())
    env.update(overrides)
    return env


def relative_deviation(a, b):
    """max |a - b| / max |b| (the plain max |a - b| when b is all zero)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {b.shape}")
    scale = np.max(np.abs(b)) if b.size else 0.0
    deviation = np.max(np.abs(a - b)) if b.size else 0.0
    return deviation / scale if scale > 0 else deviation
