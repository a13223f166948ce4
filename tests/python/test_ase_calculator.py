"""test_ase_calculator.py — mlpot.ase.MlpotCalculator: analytic forces and stress against
ASE's finite differences on a rattled, strained Si cell; per-atom energies; caching through
check_state; stress only for 3D-periodic cells; cell relaxations with ExpCellFilter +
BFGS and UnitCellFilter + FIRE down to zero stress; phonopy finite displacements; the
automatic choice of a shipped potential and its error."""

import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError
from ase.optimize import BFGS, FIRE

try:  # ASE >= 3.23 moved the cell filters to ase.filters
    from ase.filters import ExpCellFilter, UnitCellFilter
except ImportError:
    from ase.constraints import ExpCellFilter, UnitCellFilter

import mlpot
from mlpot.ase import MlpotCalculator
from mlpot_test_support import BINARY, SI_MODEL, si_cell

# a general (non-symmetric-looking) small deformation of the cubic cell
STRAIN = [[0.012, 0.004, -0.002], [0.004, -0.008, 0.003], [-0.002, 0.003, 0.015]]


def counting(model):
    """Wraps model.compute to count its calls; returns the list the count goes into."""
    calls = []
    compute = model.compute

    def counted(*args, **kwargs):
        calls.append(1)
        return compute(*args, **kwargs)
    model.compute = counted
    return calls


class Derivatives(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.calc = MlpotCalculator(model=SI_MODEL)
        cls.atoms = si_cell(rattle=0.05, strain=STRAIN, seed=11)
        cls.atoms.calc = cls.calc

    def displaced_copy(self):
        # finite differences move the atoms and cell: on a copy, with the same calculator
        atoms = self.atoms.copy()
        atoms.calc = self.calc
        return atoms

    def assert_finite_differences_agree(self, what, analytic, numerical, unit, tolerance):
        deviation = np.max(np.abs(analytic - numerical))
        print(f"{what} vs ASE finite differences: max deviation {deviation:.2e} {unit} "
              f"(largest component {np.max(np.abs(analytic)):.4f} {unit})")
        self.assertLess(deviation, tolerance)

    def test_forces_finite_differences(self):
        numerical = self.calc.calculate_numerical_forces(self.displaced_copy(), d=1e-4)
        self.assert_finite_differences_agree("forces (steps of 1e-4 Å)", self.atoms.get_forces(),
                                             numerical, "eV/Å", 1e-5)

    def test_stress_finite_differences(self):
        stress = self.atoms.get_stress()
        numerical = self.calc.calculate_numerical_stress(self.displaced_copy(), d=1e-6)
        self.assert_finite_differences_agree("stress (strains of 1e-6)", stress, numerical,
                                             "eV/Å^3", 1e-6)
        # the 3x3 form agrees with the Voigt components
        full = self.atoms.get_stress(voigt=False)
        np.testing.assert_allclose(full[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]], stress, rtol=0,
                                   atol=1e-15)

    def test_energies_and_free_energy(self):
        energy = self.atoms.get_potential_energy()
        energies = self.atoms.get_potential_energies()
        self.assertEqual(energies.shape, (8,))
        self.assertAlmostEqual(energies.sum(), energy, delta=1e-12 * abs(energy))
        self.assertEqual(self.atoms.get_potential_energy(force_consistent=True), energy)


class Caching(unittest.TestCase):
    def test_compute_once_until_atoms_change(self):
        calc = MlpotCalculator(model=mlpot.Model(SI_MODEL))
        calls = counting(calc.model)
        atoms = si_cell(rattle=0.05, seed=2)
        atoms.calc = calc
        f1 = atoms.get_forces()
        f2 = atoms.get_forces()
        atoms.get_potential_energy()
        atoms.get_stress()
        atoms.get_potential_energies()
        self.assertEqual(len(calls), 1, "one evaluation serves every property")
        np.testing.assert_array_equal(f1, f2)
        atoms.positions[3] += [0.01, 0.0, 0.0]
        f3 = atoms.get_forces()
        self.assertEqual(len(calls), 2, "moving an atom recomputes")
        self.assertGreater(np.max(np.abs(f3 - f1)), 1e-4)
        atoms.set_cell(atoms.cell.array * 1.001, scale_atoms=True)
        atoms.get_stress()
        self.assertEqual(len(calls), 3, "changing the cell recomputes")


class NonPeriodic(unittest.TestCase):
    def test_stress_only_when_3d_periodic(self):
        calc = MlpotCalculator(model=SI_MODEL)
        for pbc in ([False] * 3, [True, True, False]):
            atoms = si_cell(rattle=0.05, seed=4)
            atoms.pbc = pbc
            atoms.calc = calc
            energy = atoms.get_potential_energy()
            forces = atoms.get_forces()
            self.assertTrue(np.isfinite(energy))
            self.assertAlmostEqual(np.abs(forces.sum(axis=0)).max(), 0, delta=1e-10)
            with self.assertRaises(PropertyNotImplementedError):
                atoms.get_stress()
            # still usable after the refusal
            self.assertEqual(atoms.get_potential_energy(), energy)


class Relaxation(unittest.TestCase):
    def relax(self, cell_filter, optimizer):
        atoms = si_cell(rattle=0.03, strain=STRAIN, seed=5)
        atoms.calc = MlpotCalculator(model=SI_MODEL)
        with optimizer(cell_filter(atoms), logfile=None) as relaxation:  # closes its log
            converged = relaxation.run(fmax=0.01, steps=300)
        stress = atoms.get_stress()
        print(f"{cell_filter.__name__} + {optimizer.__name__}: converged {converged}, "
              f"max |σ| {np.max(np.abs(stress)):.1e} eV/Å^3, max |F| "
              f"{np.max(np.linalg.norm(atoms.get_forces(), axis=1)):.1e} eV/Å, "
              f"a = {atoms.get_volume() ** (1 / 3):.4f} Å")
        self.assertTrue(converged)
        self.assertLess(np.max(np.abs(stress)), 1e-3)

    def test_expcellfilter_bfgs(self):
        self.relax(ExpCellFilter, BFGS)

    def test_unitcellfilter_fire(self):
        self.relax(UnitCellFilter, FIRE)


class Phonopy(unittest.TestCase):
    def test_finite_displacements(self):
        try:
            from phonopy import Phonopy as PhonopyApi
            from phonopy.structure.atoms import PhonopyAtoms
        except ImportError:
            self.skipTest("phonopy not installed")
        unit = si_cell()
        cell = PhonopyAtoms(numbers=unit.numbers, positions=unit.positions, cell=unit.cell.array)
        phonon = PhonopyApi(cell, supercell_matrix=np.eye(3, dtype=int), primitive_matrix="auto")
        phonon.generate_displacements(distance=0.01)
        calc = MlpotCalculator(model=SI_MODEL)
        forces = []
        for displaced in phonon.supercells_with_displacements:
            atoms = si_cell()
            atoms.positions = displaced.positions
            atoms.calc = calc
            forces.append(atoms.get_forces())
            # a displaced atom in an otherwise perfect crystal: forces sum to zero
            self.assertLess(np.abs(forces[-1].sum(axis=0)).max(), 1e-10)
        phonon.forces = forces
        phonon.produce_force_constants()
        phonon.run_qpoints([[0, 0, 0]])
        frequencies = phonon.get_qpoints_dict()["frequencies"][0]  # THz, ascending
        print(f"phonopy Γ frequencies (THz): {np.round(frequencies, 3).tolist()}")
        self.assertLess(np.max(np.abs(frequencies[:3])), 0.05, "acoustic modes at Γ")
        self.assertGreater(frequencies[3], 1.0, "optical modes at Γ")


class AutomaticPotential(unittest.TestCase):
    """model=None: the first model file (by name) in $MLPOT_POTENTIALS and then the shipped
    directories whose species cover the atoms; an error listing what exists otherwise."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.saved = os.environ.get("MLPOT_POTENTIALS")
        os.environ["MLPOT_POTENTIALS"] = self.dir

    def tearDown(self):
        shutil.rmtree(self.dir)
        if self.saved is None:
            del os.environ["MLPOT_POTENTIALS"]
        else:
            os.environ["MLPOT_POTENTIALS"] = self.saved

    def init_model(self, name, species):
        path = os.path.join(self.dir, name)
        subprocess.run([BINARY, "model", "init", "--arch", "cgcnn", "--species", species,
                        "--cutoff", "4", "--features", "8", "--layers", "1", "--basis", "4",
                        "--readout-hidden", "8", "-o", path], check=True, capture_output=True)
        return path

    def test_picks_covering_potential(self):
        self.init_model("a-O.h5", "O")
        sio = self.init_model("b-OSi.h5", "O,Si")
        calc = MlpotCalculator()
        atoms = si_cell(rattle=0.05)
        atoms.calc = calc
        atoms.get_potential_energy()
        self.assertEqual(calc.model.path, sio)
        with mlpot.Model(sio) as model:
            expected = model.compute(atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
        self.assertEqual(atoms.get_potential_energy(), expected.energy)
        # an O2 molecule: the chosen potential covers it too and stays
        o2 = Atoms("O2", positions=[[0, 0, 0], [1.2, 0, 0]])
        o2.calc = calc
        o2.get_potential_energy()
        self.assertEqual(calc.model.path, sio)
        # argon is not covered: the calculator picks again
        argon = self.init_model("c-Ar.h5", "Ar")
        ar2 = Atoms("Ar2", positions=[[0, 0, 0], [3.4, 0, 0]])
        ar2.calc = calc
        ar2.get_potential_energy()
        self.assertEqual(calc.model.path, argon)

    def test_none_covers(self):
        self.init_model("a-O.h5", "O")
        atoms = Atoms("Xe2", positions=[[0, 0, 0], [4.0, 0, 0]])
        atoms.calc = MlpotCalculator()
        with self.assertRaises(mlpot.MlpotError) as caught:
            atoms.get_potential_energy()
        message = str(caught.exception)
        self.assertIn("no shipped potential covers Xe", message)
        self.assertIn("a-O.h5 (O)", message)
        self.assertIn(self.dir, message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
