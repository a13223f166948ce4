"""model.py — mlpot.Model: a model file loaded into libmlpot, evaluated on plain arrays
(atomic numbers, Cartesian positions in Å, cell rows in Å, periodicity), and mlpot.Committee:
several models evaluated together, their mean and spread. The C structure, workspaces and
output arrays are kept between calls, so an MD loop that moves the same atoms only copies
positions and cell in and results out."""

import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._library import CommitteeDeviation as _CDeviation, MlpotError, Results as _CResults, \
    check, doubles, ints, lib


@dataclass
class Results:
    """One evaluation: energy (eV), per-atom energies (N,) summing to it, forces (N, 3) eV/Å,
    stress (3, 3) eV/Å^3 in ASE's sign convention (negative under compression), or None when
    the structure is not periodic in all three directions. The arrays belong to the caller."""

    energy: float
    energies: np.ndarray
    forces: np.ndarray
    stress: Optional[np.ndarray]
    # "" or the one-line extrapolation warning (mlpot_calculator_extrapolation_message): the
    # structure lies outside what the model saw in training
    extrapolation: str = ""

    def __getitem__(self, key):
        # dict-style access too, as in ASE's calc.results
        return getattr(self, key)


# The heaviest element mlpot knows (Og).
MAX_ATOMIC_NUMBER = 118


def as_structure_arrays(numbers, positions, cell=None, pbc=None):
    """Validated C-ready copies (or views) of a structure's arrays: numbers (N,) C int,
    positions (N, 3) float64, cell (3, 3) float64 (zeros when None), pbc (3,) C int.
    pbc None means periodic in all three directions when a cell is given, else none."""
    numbers_in = np.asarray(numbers)
    integral = numbers_in.size == 0 or np.issubdtype(numbers_in.dtype, np.integer)
    if numbers_in.ndim != 1 or not integral:
        raise ValueError(f"numbers must be a 1-D array of integers, got {numbers_in.dtype} "
                         f"{numbers_in.shape}")
    # a value outside the periodic table would wrap when narrowed to C int (2**32 + 32 -> Ge)
    if numbers_in.size and (numbers_in.min() < 1 or numbers_in.max() > MAX_ATOMIC_NUMBER):
        bad = numbers_in[(numbers_in < 1) | (numbers_in > MAX_ATOMIC_NUMBER)][0]
        raise ValueError(f"numbers must be atomic numbers 1..{MAX_ATOMIC_NUMBER}, got {bad}")
    numbers_c = np.ascontiguousarray(numbers_in, dtype=np.intc)
    n = numbers_c.shape[0]
    positions_c = np.ascontiguousarray(positions, dtype=np.float64)
    if positions_c.shape != (n, 3):
        raise ValueError(f"positions must have shape ({n}, 3) for {n} atoms, got "
                         f"{positions_c.shape}")
    if cell is None:
        cell_c = np.zeros((3, 3))
    else:
        cell_c = np.ascontiguousarray(cell, dtype=np.float64)
        if cell_c.shape != (3, 3):
            raise ValueError(f"cell must have shape (3, 3), got {cell_c.shape}")
    if pbc is None:
        pbc = cell is not None
    # booleans (or 0/1) only: np.asarray("FFF", bool) is True, a periodic cell
    pbc_in = np.asarray(pbc)
    if pbc_in.dtype.kind not in "biu" or pbc_in.ndim > 1 or pbc_in.size not in (1, 3) or \
            not np.isin(pbc_in, (0, 1)).all():
        raise ValueError(f"pbc must be a bool or three bools (0/1), got {pbc!r}")
    pbc_c = np.ascontiguousarray(np.broadcast_to(pbc_in.astype(bool), (3,)), dtype=np.intc)
    return numbers_c, positions_c, cell_c, pbc_c


class _KeptStructure:
    """The C structure of the atoms last evaluated and output buffers of their size, moved to
    new positions and cell when the same atoms come again, and the context-manager and
    finaliser that call the subclass's close() (Model and Committee)."""

    _structure = None
    _numbers = None

    def close(self):
        self._free_structure()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # during interpreter shutdown the module globals may already be gone
        try:
            self.close()
        except Exception:
            pass

    def _prepare(self, numbers, positions, cell, pbc):
        """Moves the kept C structure to these positions and cell, or makes a new one (with
        output buffers) when the atoms differ."""
        if self._structure is not None and np.array_equal(numbers, self._numbers):
            check(lib.mlpot_structure_set_positions(self._structure, doubles(positions)))
            check(lib.mlpot_structure_set_cell(self._structure, doubles(cell), ints(pbc)))
            return
        self._free_structure()
        structure = ctypes.c_void_p()
        check(lib.mlpot_structure_create(ctypes.byref(structure), len(numbers), ints(numbers),
                                         doubles(positions), doubles(cell), ints(pbc)))
        self._structure = structure
        self._numbers = numbers.copy()
        self._forces = np.zeros((len(numbers), 3))
        self._energies = np.zeros(len(numbers))
        self._stress = np.zeros((3, 3))
        self._deviations = np.zeros(len(numbers))

    def _free_structure(self):
        if self._structure is not None:
            lib.mlpot_structure_free(self._structure)
            self._structure = None
            self._numbers = None


class Model(_KeptStructure):
    """A model file (mlpot_model_load) with one calculator.

    Attributes read from the file: path, architecture (its name in the file, e.g. "cgcnn"),
    cutoff (Å), n_layers, species (tuple of atomic numbers, ascending), n_parameters, description,
    has_ranges (whether the file stores training ranges for extrapolation warnings).

    compute() is serialised by a lock: one Model holds one workspace, so threads that want to
    evaluate in parallel need a Model each. Use as a context manager, or call close(), to free
    the C objects early; otherwise they are freed with the object."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._model = None
        self._calculator = None
        self._structure = None
        self._lock = threading.Lock()
        model = ctypes.c_void_p()
        check(lib.mlpot_model_load(ctypes.byref(model), os.fsencode(self.path)))
        self._model = model
        calculator = ctypes.c_void_p()
        try:
            check(lib.mlpot_calculator_create(ctypes.byref(calculator), model))
        except MlpotError:
            self.close()
            raise
        self._calculator = calculator
        self.architecture = lib.mlpot_model_architecture(model).decode()
        self.cutoff = float(lib.mlpot_model_cutoff(model))
        self.n_layers = int(lib.mlpot_model_n_layers(model))
        n_species = lib.mlpot_model_n_species(model)
        self.species = tuple(int(lib.mlpot_model_species(model)[k]) for k in range(n_species))
        self.n_parameters = int(lib.mlpot_model_n_parameters(model))
        self.description = lib.mlpot_model_description(model).decode("utf-8", "replace")
        self.has_ranges = bool(lib.mlpot_model_has_ranges(model))
        # numbers of the atoms the C structure was created for, and output buffers of that size
        self._numbers = None
        self._forces = self._energies = self._stress = None

    def __repr__(self):
        return (f"Model({self.path!r}: {self.architecture}, species {list(self.species)}, "
                f"cutoff {self.cutoff:g} Å, {self.n_layers} layers, "
                f"{self.n_parameters} parameters)")

    def covers(self, numbers):
        """Whether every atomic number in `numbers` is one of the model's species."""
        return set(int(z) for z in np.unique(numbers)) <= set(self.species)

    def compute(self, numbers, positions, cell=None, pbc=None):
        """Energy, per-atom energies, forces and (3D-periodic only) stress of one structure;
        any array-likes (see as_structure_arrays). Returns a Results with fresh arrays."""
        numbers, positions, cell, pbc = as_structure_arrays(numbers, positions, cell, pbc)
        with self._lock:
            if self._calculator is None:
                raise MlpotError(f"{self.path}: the model was closed")
            self._prepare(numbers, positions, cell, pbc)
            r = _CResults(energies=doubles(self._energies), forces=doubles(self._forces),
                          stress=doubles(self._stress))
            check(lib.mlpot_calculator_compute(self._calculator, self._structure, ctypes.byref(r)))
            text = ctypes.create_string_buffer(1024)
            check(lib.mlpot_calculator_extrapolation_message(self._calculator, text, len(text),
                                                             None))
            # copies, so that results held by the caller survive the next call
            return Results(energy=float(r.energy), energies=self._energies.copy(),
                           forces=self._forces.copy(),
                           stress=self._stress.copy() if r.has_stress else None,
                           extrapolation=text.value.decode("utf-8", "replace"))

    def close(self):
        """Frees the C structure, calculator and model (the calculator before its model)."""
        self._free_structure()
        if self._calculator is not None:
            lib.mlpot_calculator_free(self._calculator)
            self._calculator = None
        if self._model is not None:
            lib.mlpot_model_free(self._model)
            self._model = None


@dataclass
class CommitteeResults(Results):
    """A committee's evaluation: the mean energy, per-atom energies, forces and stress of its
    models (as Results), and their spread (DeePMD's model deviation): energy_std_per_atom
    (eV/atom, population std of the energies over N), force_deviations (N,) eV/Å, per atom
    sqrt(<|F_i - <F_i>|^2>) over the models, and their max and mean over the atoms."""

    energy_std_per_atom: float = 0.0
    force_deviation_max: float = 0.0
    force_deviation_mean: float = 0.0
    force_deviations: Optional[np.ndarray] = None


class Committee(_KeptStructure):
    """Committee(models): several models evaluated on the same atoms (mlpot_committee).

    models: model file paths or mlpot.Model objects (those are shared and stay open; the
    models opened from paths are closed with the committee). Each must know every element of
    the atoms; cutoffs and architectures may differ. compute() returns CommitteeResults and,
    like Model.compute, is serialised by a lock."""

    def __init__(self, models):
        models = list(models)
        if not models:
            raise ValueError("a committee needs at least one model")
        self._committee = None
        self._owned = []
        self._lock = threading.Lock()
        self.models = []
        try:
            for m in models:
                if not isinstance(m, Model):
                    m = Model(m)
                    self._owned.append(m)
                self.models.append(m)
            handles = (ctypes.c_void_p * len(self.models))(*(m._model for m in self.models))
            committee = ctypes.c_void_p()
            check(lib.mlpot_committee_create(ctypes.byref(committee), handles, len(handles)))
            self._committee = committee
        except Exception:
            self.close()
            raise
        self.species = tuple(sorted(set.intersection(*(set(m.species) for m in self.models))))

    def __repr__(self):
        return f"Committee({[m.path for m in self.models]!r})"

    def __len__(self):
        return len(self.models)

    def covers(self, numbers):
        """Whether every model knows every atomic number in `numbers`."""
        return all(m.covers(numbers) for m in self.models)

    def compute(self, numbers, positions, cell=None, pbc=None):
        """Mean energy, per-atom energies, forces and (3D-periodic only) stress of the models,
        and their spread, for one structure (see as_structure_arrays); fresh arrays."""
        numbers, positions, cell, pbc = as_structure_arrays(numbers, positions, cell, pbc)
        with self._lock:
            if self._committee is None:
                raise MlpotError("the committee was closed")
            self._prepare(numbers, positions, cell, pbc)
            r = _CResults(energies=doubles(self._energies), forces=doubles(self._forces),
                          stress=doubles(self._stress))
            d = _CDeviation(force_deviations=doubles(self._deviations))
            check(lib.mlpot_committee_compute(self._committee, self._structure, ctypes.byref(r),
                                              ctypes.byref(d)))
            # the first member whose training ranges the atoms leave gives the warning line
            text = ctypes.create_string_buffer(1024)
            for k in range(len(self.models)):
                member = ctypes.c_void_p()
                check(lib.mlpot_committee_calculator(self._committee, k, ctypes.byref(member)))
                check(lib.mlpot_calculator_extrapolation_message(member, text, len(text), None))
                if text.value:
                    break
            return CommitteeResults(
                extrapolation=text.value.decode("utf-8", "replace"),
                energy=float(r.energy), energies=self._energies.copy(),
                forces=self._forces.copy(), stress=self._stress.copy() if r.has_stress else None,
                energy_std_per_atom=float(d.energy_std_per_atom),
                force_deviation_max=float(d.force_deviation_max),
                force_deviation_mean=float(d.force_deviation_mean),
                force_deviations=self._deviations.copy())

    def close(self):
        """Frees the C committee, then the models it opened from paths."""
        self._free_structure()
        if self._committee is not None:
            lib.mlpot_committee_free(self._committee)
            self._committee = None
        for m in self._owned:
            m.close()
        self._owned = []
