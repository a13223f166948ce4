"""potentials.py — the shipped potentials: model files (*.h5, by name) in $MLPOT_POTENTIALS,
<prefix>/share/mlpot/potentials of an installed mlpot, and the source tree's potentials/
(beside python/), in the order `mlpot predict` searches them; find_potential() picks the first
whose species cover a structure."""

import glob
import os
import sys

import numpy as np

from ._library import SOURCE_TREE, MlpotError, library_path
from .model import Model


def _installed_prefixes():
    """Prefixes an installed mlpot may live under: the one libmlpot was loaded from
    (<prefix>/lib/libmlpot.so or <prefix>/lib/<multiarch>/libmlpot.so), Python's, /usr/local."""
    prefixes = []
    lib_dir = os.path.dirname(library_path())
    if lib_dir:
        prefixes += [os.path.dirname(lib_dir), os.path.dirname(os.path.dirname(lib_dir))]
    prefixes += [sys.prefix, "/usr/local", "/usr"]
    return prefixes


def potential_dirs():
    """The directories searched, in order (existing ones only, without repeats)."""
    # the order of the command-line tool (src/cli/default_potential.c): the environment, the
    # installed potentials, then the source tree's
    candidates = [os.environ.get("MLPOT_POTENTIALS")]
    candidates += [os.path.join(p, "share", "mlpot", "potentials") for p in _installed_prefixes()]
    if SOURCE_TREE:
        candidates.append(os.path.join(SOURCE_TREE, "potentials"))
    dirs = []
    for d in candidates:
        if d and os.path.isdir(d) and os.path.realpath(d) not in map(os.path.realpath, dirs):
            dirs.append(d)
    return dirs


def _symbols(numbers):
    try:
        from ase.data import chemical_symbols
        return " ".join(chemical_symbols[z] for z in numbers)
    except ImportError:
        return " ".join(f"Z={z}" for z in numbers)


def find_potential(numbers):
    """Path of the first shipped model file whose species cover the atomic numbers given;
    MlpotError listing every potential found (with its species) when none does."""
    wanted = sorted(set(int(z) for z in np.asarray(numbers).ravel()))
    seen = []
    for d in potential_dirs():
        for path in sorted(glob.glob(os.path.join(d, "*.h5"))):
            try:
                with Model(path) as model:
                    species = model.species
            except MlpotError:
                continue  # not a model file (or a broken one): not a candidate
            if set(wanted) <= set(species):
                return path
            seen.append(f"{path} ({_symbols(species)})")
    looked = ", ".join(potential_dirs()) or "nowhere: none of the directories exists"
    found = "; ".join(seen) if seen else "none"
    raise MlpotError(f"no shipped potential covers {_symbols(wanted)}; potentials found: {found} "
                     f"(searched $MLPOT_POTENTIALS, <prefix>/share/mlpot/potentials and the "
                     f"source tree: {looked}); pass model=PATH")
