"""structures.py — mlpot.read: every frame of a structure file (VASP POSCAR/CONTCAR, extended
XYZ) through libmlpot's own readers, as plain numpy arrays. These are exactly the numbers
`mlpot predict` sees for the same file (ase.io.read may differ in the last bit)."""

import ctypes
import os
from typing import NamedTuple

import numpy as np

from ._library import ReadOptions, check, lib


class Structure(NamedTuple):
    """numbers (N,) int, positions (N, 3) Å, cell (3, 3) rows Å, pbc (3,) bool: the arguments
    of Model.compute, in its order."""

    numbers: np.ndarray
    positions: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray


def _to_numpy(structure):
    n = lib.mlpot_structure_n_atoms(structure)
    return Structure(
        numbers=np.ctypeslib.as_array(lib.mlpot_structure_numbers(structure), (n,)).astype(int),
        positions=np.ctypeslib.as_array(lib.mlpot_structure_positions(structure), (n, 3)).copy(),
        cell=np.ctypeslib.as_array(lib.mlpot_structure_cell(structure), (3, 3)).copy(),
        pbc=np.ctypeslib.as_array(lib.mlpot_structure_pbc(structure), (3,)).astype(bool),
    )


def read(path, format=None, species=None):
    """Every frame of `path` as a list of Structure. format: "vasp" or "extxyz" (None: from
    the file name); species: "Si,O" for VASP 4 files without a species line."""
    options = ReadOptions(format.encode() if format else None,
                          species.encode() if species else None)
    reader = ctypes.c_void_p()
    check(lib.mlpot_reader_open(ctypes.byref(reader), os.fsencode(path), ctypes.byref(options)))
    frames = []
    try:
        while True:
            structure = ctypes.c_void_p()
            check(lib.mlpot_reader_next(reader, ctypes.byref(structure)))
            if not structure:
                return frames
            try:
                frames.append(_to_numpy(structure))
            finally:
                lib.mlpot_structure_free(structure)
    finally:
        lib.mlpot_reader_close(reader)
