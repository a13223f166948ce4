"""test_committee.py — mlpot.Committee and MlpotCalculator(model=[...]): the mean results and
the spread (energy std per atom, per-atom force deviations, their max and mean) against the
models evaluated one by one and recomputed here with numpy; one model alone and two copies of
one model; shared Model objects stay open."""

import os
import subprocess
import tempfile
import unittest

import numpy as np

import mlpot
from mlpot.ase import MlpotCalculator
from mlpot_test_support import BINARY, SI_MODEL, si_cell


class Committee(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        # a second Si model of another architecture and cutoff than the shipped one
        cls.other = os.path.join(cls.tmp.name, "megnet.h5")
        subprocess.run([BINARY, "model", "init", "--arch", "megnet", "--species", "Si",
                        "--cutoff", "4.5", "--features", "8", "--layers", "2", "--basis", "6",
                        "--edge-features", "4", "--megnet-hidden", "5", "--bias-std", "0.2",
                        "--seed", "7", "-o", cls.other], check=True, capture_output=True)
        cls.atoms = si_cell(repeat=1, rattle=0.06, strain=[[0.01, 0, 0], [0, -0.005, 0],
                                                           [0, 0, 0.002]], seed=5)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def separate(self, paths):
        """Each model's results for self.atoms, evaluated alone."""
        out = []
        for path in paths:
            with mlpot.Model(path) as model:
                a = self.atoms
                out.append(model.compute(a.numbers, a.positions, a.cell.array, a.pbc))
        return out

    def test_calculator_committee_against_models_one_by_one(self):
        paths = [SI_MODEL, self.other]
        single = self.separate(paths)
        atoms = self.atoms.copy()
        atoms.calc = MlpotCalculator(model=paths)
        forces = atoms.get_forces()
        energy = atoms.get_potential_energy()
        stress = atoms.get_stress(voigt=False)
        energies = atoms.get_potential_energies()
        r = atoms.calc.results
        n = len(atoms)
        f = np.array([s.forces for s in single])  # (models, N, 3)
        e = np.array([s.energy for s in single])
        np.testing.assert_allclose(energy, e.mean(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(forces, f.mean(axis=0), rtol=0, atol=1e-12)
        np.testing.assert_allclose(stress, np.mean([s.stress for s in single], axis=0), rtol=0,
                                   atol=1e-14)
        np.testing.assert_allclose(energies, np.mean([s.energies for s in single], axis=0),
                                   rtol=0, atol=1e-12)
        deviations = np.sqrt(((f - f.mean(axis=0)) ** 2).sum(axis=2).mean(axis=0))
        self.assertGreater(deviations.max(), 1e-3)  # two different models disagree
        np.testing.assert_allclose(r["force_deviations"], deviations, rtol=0, atol=1e-12)
        self.assertAlmostEqual(r["force_deviation_max"], deviations.max(), delta=1e-12)
        self.assertAlmostEqual(r["force_deviation_mean"], deviations.mean(), delta=1e-12)
        self.assertAlmostEqual(r["energy_std_per_atom"], e.std() / n, delta=1e-12)
        print(f"committee of 2 on {n} atoms: force deviation max {deviations.max():.4f} eV/Å, "
              f"energy std {1000 * e.std() / n:.2f} meV/atom")

    def test_one_model_is_that_model(self):
        (alone,) = self.separate([SI_MODEL])
        with mlpot.Committee([SI_MODEL]) as committee:
            a = self.atoms
            r = committee.compute(a.numbers, a.positions, a.cell.array, a.pbc)
        self.assertEqual(r.energy, alone.energy)
        np.testing.assert_array_equal(r.forces, alone.forces)
        np.testing.assert_array_equal(r.stress, alone.stress)
        np.testing.assert_array_equal(r.energies, alone.energies)
        self.assertEqual((r.force_deviation_max, r.force_deviation_mean, r.energy_std_per_atom),
                         (0.0, 0.0, 0.0))

    def test_copies_spread_zero_and_shared_models_stay_open(self):
        model = mlpot.Model(SI_MODEL)
        calc = MlpotCalculator(model=[model, model])
        atoms = self.atoms.copy()
        atoms.calc = calc
        atoms.get_potential_energy()
        self.assertEqual(calc.results["force_deviation_max"], 0.0)
        self.assertEqual(calc.results["energy_std_per_atom"], 0.0)
        np.testing.assert_array_equal(calc.results["force_deviations"], np.zeros(len(atoms)))
        calc.model.close()
        # the committee does not close a Model it was given
        a = self.atoms
        self.assertTrue(np.isfinite(model.compute(a.numbers, a.positions, a.cell.array,
                                                  a.pbc).energy))
        model.close()

    def test_errors(self):
        with self.assertRaises(ValueError):
            mlpot.Committee([])
        with tempfile.TemporaryDirectory() as tmp:
            oxygen = os.path.join(tmp, "o.h5")
            subprocess.run([BINARY, "model", "init", "--arch", "cgcnn", "--species", "O",
                            "--cutoff", "4", "--features", "8", "--layers", "2", "--basis", "6",
                            "-o", oxygen], check=True, capture_output=True)
            with mlpot.Committee([SI_MODEL, oxygen]) as committee:
                a = self.atoms
                with self.assertRaisesRegex(mlpot.MlpotError, "committee model 2"):
                    committee.compute(a.numbers, a.positions, a.cell.array, a.pbc)


if __name__ == "__main__":
    unittest.main()
