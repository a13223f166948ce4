"""mlpot — Python interface to libmlpot, the C engine for crystal-graph neural-network
interatomic potentials, through ctypes (no compiled extension).

    import mlpot
    with mlpot.Model("potentials/Si-mlearn-megnet.h5") as model:
        r = model.compute(numbers, positions, cell, pbc)   # r.energy, r.forces, r.stress...

    from mlpot.ase import MlpotCalculator                   # needs ASE
    atoms.calc = MlpotCalculator(model="potentials/Si-mlearn-megnet.h5")
    atoms.calc = MlpotCalculator(model=["a.h5", "b.h5"])    # a committee: mean and spread

libmlpot is found through $MLPOT_LIBRARY, the source tree's build/, or the system loader
(see mlpot._library)."""

from ._library import MlpotError, library_path, version as library_version
from .model import Committee, CommitteeResults, Model, Results
from .potentials import find_potential, potential_dirs
from .structures import Structure, read

__version__ = "0.1.0"
__all__ = ["MlpotError", "Model", "Results", "Committee", "CommitteeResults", "Structure", "read", "find_potential",
           "potential_dirs", "library_path", "library_version"]
