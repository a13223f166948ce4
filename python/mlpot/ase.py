"""ase.py — MlpotCalculator, an ASE calculator on an mlpot model: energy, free_energy (the
same: no electronic entropy), per-atom energies, forces and stress from one evaluation, cached
by ASE's check_state until the atoms change. Stress is in ASE's Voigt order (xx yy zz yz xz xy),
eV/Å^3, and exists only for cells periodic in all three directions. A list of models is a
committee: the mean of their results, and their spread in calc.results. A structure outside
what the model saw in training gives one ExtrapolationWarning per calculation."""

import warnings

from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from .model import Committee, Model
from .potentials import find_potential


class ExtrapolationWarning(UserWarning):
    """The atoms lie outside the ranges the model saw in training (shortest neighbour
    distance, neighbour count or readout inputs, per species): the results are extrapolated."""


class MlpotCalculator(Calculator):
    """MlpotCalculator(model=None, **kwargs)

    model: a model file path or an mlpot.Model (shared, not closed by the calculator). None
    picks, at the first calculation, the first shipped potential whose species cover the atoms
    (mlpot.potentials.find_potential), and picks again if later atoms hold other elements.
    A list (or tuple) of paths or Models, or an mlpot.Committee, is a committee: energy,
    energies, forces and stress are the models' mean, and calc.results also holds their
    spread (DeePMD's model deviation): energy_std_per_atom (eV/atom), force_deviations (N,)
    eV/Å (per atom sqrt(<|F_i - <F_i>|^2>) over the models), force_deviation_max and
    force_deviation_mean (eV/Å).
    extrapolation_warnings: warn (ExtrapolationWarning, once per calculated structure) when the
    atoms lie outside the model's training ranges; False silences it.
    Other keyword arguments go to ase.calculators.calculator.Calculator (label, directory...)."""

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, model=None, extrapolation_warnings=True, **kwargs):
        Calculator.__init__(self, **kwargs)
        self.extrapolation_warnings = extrapolation_warnings
        self._automatic = model is None
        if isinstance(model, (list, tuple)):
            model = Committee(model)
        self.model = model if model is None or isinstance(model, (Model, Committee)) \
            else Model(model)

    def _model_for(self, numbers):
        """The model to evaluate these atoms with (for a given model, always that one: the
        library's error names an element it does not know)."""
        if self._automatic and (self.model is None or not self.model.covers(numbers)):
            if self.model is not None:
                self.model.close()
            self.model = Model(find_potential(numbers))
        return self.model

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        Calculator.calculate(self, atoms, properties, system_changes)
        atoms = self.atoms
        periodic = bool(atoms.pbc.all())
        if "stress" in properties and not periodic:
            raise PropertyNotImplementedError(
                f"mlpot: stress needs a cell periodic in all three directions (pbc = "
                f"{atoms.pbc.tolist()})")
        r = self._model_for(atoms.numbers).compute(atoms.numbers, atoms.positions,
                                                   atoms.cell.array, atoms.pbc)
        self.results = {"energy": r.energy, "free_energy": r.energy, "energies": r.energies,
                        "forces": r.forces}
        if r.stress is not None:
            self.results["stress"] = full_3x3_to_voigt_6_stress(r.stress)
        if isinstance(self.model, Committee):
            for key in ("energy_std_per_atom", "force_deviation_max", "force_deviation_mean",
                        "force_deviations"):
                self.results[key] = getattr(r, key)
        if getattr(r, "extrapolation", None) and self.extrapolation_warnings:
            warnings.warn(f"mlpot: {r.extrapolation}", ExtrapolationWarning, stacklevel=2)
