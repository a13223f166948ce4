"""test_model.py — mlpot.Model against `mlpot predict --format json` (≤ 1e-12 relative: the
same library on the same doubles) on the diamond Si cell, a rattled 2x2x2 supercell, the
multi-species triclinic kyanite cell (a random megnet model) and a Si molecule (no stress);
workspace reuse across calls and atom counts; error paths and library lookup."""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import mlpot
from mlpot_test_support import (BINARY, SI_MODEL, atoms_from_file, predict_json, python_env,
                                relative_deviation, si_cell, structure_path, write_extxyz)

TOLERANCE = 1e-12


class PredictAgreement(unittest.TestCase):
    """Model.compute gives what `mlpot predict` prints for the same structure file."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_against_predict(self, model_path, structure_file, atoms, periodic):
        reference = predict_json(model_path, structure_file)
        with mlpot.Model(model_path) as model:
            r = model.compute(atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
        deviations = {
            "energy": relative_deviation(r.energy, reference["energy"]),
            "energies": relative_deviation(r.energies, reference["energies"]),
            "forces": relative_deviation(r.forces, reference["forces"]),
        }
        if periodic:
            deviations["stress"] = relative_deviation(r.stress, reference["stress"])
        else:
            self.assertIsNone(r.stress)
            self.assertNotIn("stress", reference)
        print(f"{os.path.basename(structure_file)}: relative deviation from mlpot predict "
              + ", ".join(f"{k} {v:.1e}" for k, v in deviations.items()))
        for key, deviation in deviations.items():
            self.assertLessEqual(deviation, TOLERANCE, key)
        self.assertAlmostEqual(r.energies.sum(), r.energy, delta=1e-12 * abs(r.energy))

    def test_si_diamond(self):
        self.check_against_predict(SI_MODEL, structure_path("Si.vasp"),
                                   atoms_from_file("Si.vasp"), periodic=True)

    def test_rattled_si_supercell(self):
        atoms = si_cell(repeat=2, rattle=0.05, seed=3)
        path = os.path.join(self.tmp.name, "si64.xyz")
        write_extxyz(path, atoms)
        self.check_against_predict(SI_MODEL, path, atoms, periodic=True)

    def test_triclinic_multi_species(self):
        # kyanite Al2SiO5 (P-1): no shipped model covers it, so a random megnet model does
        model_path = os.path.join(self.tmp.name, "alosi.h5")
        subprocess.run([BINARY, "model", "init", "--arch", "megnet", "--species", "O,Al,Si",
                        "--cutoff", "4.5", "--features", "16", "--layers", "2", "--basis", "8",
                        "--edge-features", "8", "--megnet-hidden", "16", "--readout-hidden", "16",
                        "--bias-std", "0.1", "--seed", "7", "-o", model_path],
                       check=True, capture_output=True)
        self.check_against_predict(model_path, structure_path("triclinic.vasp"),
                                   atoms_from_file("triclinic.vasp"), periodic=True)

    def test_molecule(self):
        # atom 1 of the diamond cell, at (1/4, 1/4, 1/4) a, with its four nearest neighbours
        # (atoms 0, 2, 4, 6), in open space
        atoms = atoms_from_file("Si.vasp")[[1, 0, 2, 4, 6]]
        atoms.set_cell(np.zeros((3, 3)))
        atoms.pbc = False
        atoms.rattle(0.02, seed=5)
        path = os.path.join(self.tmp.name, "si5.xyz")
        write_extxyz(path, atoms)
        self.check_against_predict(SI_MODEL, path, atoms, periodic=False)


class Workspace(unittest.TestCase):
    """The kept C structure and buffers follow the atoms; results belong to the caller."""

    def test_reuse_and_resize(self):
        small, large = si_cell(rattle=0.05, seed=1), si_cell(repeat=2, rattle=0.05, seed=2)
        with mlpot.Model(SI_MODEL) as model, mlpot.Model(SI_MODEL) as fresh:
            def both(atoms):
                a = model.compute(atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
                b = fresh.compute(atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
                fresh._free_structure()  # `fresh` always starts from a new C structure
                return a, b
            first, _ = both(small)
            kept_forces = first.forces.copy()
            moved = small.copy()
            moved.positions[0] += [0.1, -0.05, 0.02]
            moved.set_cell(moved.cell.array * 1.01, scale_atoms=False)
            for atoms in (moved, large, small, moved):
                a, b = both(atoms)
                self.assertEqual(a.energy, b.energy)
                np.testing.assert_array_equal(a.forces, b.forces)
                np.testing.assert_array_equal(a.stress, b.stress)
            # the first call's arrays were not overwritten by later calls
            np.testing.assert_array_equal(first.forces, kept_forces)
            self.assertNotEqual(first.energy, a.energy)

    def test_array_likes_and_pbc_default(self):
        atoms = si_cell(rattle=0.05)
        with mlpot.Model(SI_MODEL) as model:
            a = model.compute(atoms.numbers, atoms.positions, atoms.cell.array, [True] * 3)
            b = model.compute(atoms.numbers.tolist(), atoms.positions.tolist(),
                              atoms.cell.array.tolist())  # pbc None + a cell: periodic
            self.assertEqual(a.energy, b.energy)
            self.assertEqual(a["forces"].shape, (8, 3))
            # the same atoms without periodicity: a cluster, no stress
            c = model.compute(atoms.numbers, atoms.positions)
            self.assertIsNone(c.stress)
            self.assertNotEqual(c.energy, a.energy)

    def test_attributes(self):
        with mlpot.Model(SI_MODEL) as model:
            self.assertEqual(model.species, (14,))
            self.assertIn(model.architecture, ("cgcnn", "megnet"))
            self.assertGreater(model.cutoff, 0)
            self.assertGreater(model.n_layers, 0)
            self.assertGreater(model.n_parameters, 0)
            self.assertIsInstance(model.description, str)
            self.assertTrue(model.covers([14, 14]))
            self.assertFalse(model.covers([14, 8]))


class PotentialSearch(unittest.TestCase):
    def test_same_order_as_the_command_line(self):
        """$MLPOT_POTENTIALS first, then the installed prefixes' share/mlpot/potentials, the
        source tree last (as src/cli/default_potential.c)."""
        from mlpot import potentials
        saved = potentials._installed_prefixes
        with tempfile.TemporaryDirectory() as env, tempfile.TemporaryDirectory() as prefix:
            share = os.path.join(prefix, "share", "mlpot", "potentials")
            os.makedirs(share)
            potentials._installed_prefixes = lambda: [prefix]
            os.environ["MLPOT_POTENTIALS"] = env
            try:
                dirs = [os.path.realpath(d) for d in potentials.potential_dirs()]
            finally:
                del os.environ["MLPOT_POTENTIALS"]
                potentials._installed_prefixes = saved
            source = os.path.realpath(os.path.join(os.path.dirname(SI_MODEL), os.pardir))
            self.assertEqual(dirs, [os.path.realpath(env), os.path.realpath(share), source])


class Errors(unittest.TestCase):
    def test_missing_model_file(self):
        missing = os.path.join(tempfile.gettempdir(), "no-such-dir", "missing-model.h5")
        with self.assertRaises(mlpot.MlpotError) as caught:
            mlpot.Model(missing)
        self.assertIn(missing, str(caught.exception))
        self.assertIsNotNone(caught.exception.status)

    def test_unknown_species(self):
        with mlpot.Model(SI_MODEL) as model:
            with self.assertRaisesRegex(mlpot.MlpotError, r"\bO\b"):
                model.compute([14, 8], [[0, 0, 0], [1.6, 0, 0]])

    def test_bad_arguments(self):
        with mlpot.Model(SI_MODEL) as model:
            with self.assertRaises(ValueError):
                model.compute([14, 14], [[0, 0, 0]])
            with self.assertRaises(ValueError):
                model.compute([14], [[0, 0, 0]], cell=np.eye(2))
            with self.assertRaises(ValueError):
                model.compute([14.5], [[0, 0, 0]])
            with self.assertRaisesRegex(mlpot.MlpotError, "non-finite|NaN"):
                model.compute([14, 14], [[0, 0, 0], [np.nan, 0, 0]])
            # issue 16: "FFF" was periodic (np.asarray("FFF", bool) is True) and 2**32 + 32
            # wrapped to 32 (Ge) in C int
            for pbc in ("FFF", "TTT", [0.5, 1, 1], [2, 0, 0], [[True] * 3]):
                with self.assertRaisesRegex(ValueError, "pbc"):
                    model.compute([14, 14], [[0, 0, 0], [2.3, 0, 0]], np.eye(3) * 6, pbc)
            for numbers in ([2**32 + 14, 14], [0, 14], [-14, 14], [119, 14]):
                with self.assertRaisesRegex(ValueError, "atomic numbers"):
                    model.compute(numbers, [[0, 0, 0], [2.3, 0, 0]])
            # what ASE passes (numpy bools) and plain bools still work
            self.assertEqual(
                model.compute([14, 14], [[0, 0, 0], [2.3, 0, 0]], np.eye(3) * 6,
                              np.array([False] * 3)).energy,
                model.compute([14, 14], [[0, 0, 0], [2.3, 0, 0]], np.eye(3) * 6, False).energy)
            # issue 16: a 1e200 Å span killed the interpreter with SIGFPE
            with self.assertRaisesRegex(mlpot.MlpotError, "neighbour search can resolve"):
                model.compute([14, 14], [[0, 0, 0], [1e200, 1e200, 1e200]])
            # after a failure the model still works
            self.assertLess(model.compute([14, 14], [[0, 0, 0], [2.3, 0, 0]]).energy, 0)
        with self.assertRaisesRegex(mlpot.MlpotError, "closed"):
            model.compute([14], [[0, 0, 0]])

    def test_read_missing_file(self):
        with self.assertRaisesRegex(mlpot.MlpotError, "missing.vasp"):
            mlpot.read("missing.vasp")

    def test_library_not_found(self):
        run = subprocess.run([sys.executable, "-c", "import mlpot"],
                             env=python_env(MLPOT_LIBRARY="/no/such/libmlpot.so"),
                             capture_output=True, text=True)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("$MLPOT_LIBRARY: /no/such/libmlpot.so", run.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
