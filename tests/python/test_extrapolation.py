"""test_extrapolation.py — MlpotCalculator's extrapolation warning (issue 17): a model trained
by `mlpot train` on rattled Si cells near a = 5.43 Å gives no warning on a training frame, one
ExtrapolationWarning naming the atoms on the cell compressed to 0.8 (its text that of `mlpot
predict`), none with extrapolation_warnings=False, and none for a model file without ranges.
Skipped without ASE."""

import os
import subprocess
import tempfile
import unittest
import warnings

try:
    import ase  # noqa: F401
except ImportError:
    ase = None

if ase is not None:
    import mlpot
    from mlpot.ase import ExtrapolationWarning, MlpotCalculator
    from mlpot_test_support import BINARY, SI_MODEL, si_cell, write_extxyz


def mlpot_cli(*args):
    return subprocess.run([BINARY, *args], check=True, capture_output=True, text=True)


@unittest.skipIf(ase is None, "ASE is not installed (Debian: python3-ase)")
class Warnings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        tmp = cls.tmp.name
        teacher = os.path.join(tmp, "teacher.h5")
        mlpot_cli("model", "init", "--arch", "cgcnn", "--species", "Si", "--cutoff", "4",
                  "--features", "6", "--layers", "2", "--basis", "6", "--readout-hidden", "6",
                  "--bias-std", "0.2", "--seed", "3", "-o", teacher)
        cls.frames = []
        for k in range(6):
            atoms = si_cell(rattle=0.02, strain=[[0.01 * (k - 2.5), 0, 0], [0, 0, 0], [0, 0, 0]],
                            seed=k + 1)
            path = os.path.join(tmp, f"frame{k}.xyz")
            write_extxyz(path, atoms)
            cls.frames.append((atoms, path))
        labelled = os.path.join(tmp, "labelled.xyz")
        mlpot_cli("predict", *[p for _, p in cls.frames], "--model", teacher,
                  "--output-format", "extxyz", "-o", labelled)
        data = os.path.join(tmp, "data.h5")
        mlpot_cli("dataset", "convert", labelled, "-o", data)
        cls.model_path = os.path.join(tmp, "model.h5")
        mlpot_cli("train", "--train", data, "--valid-fraction", "0", "--cutoff", "4",
                  "--features", "6", "--layers", "2", "--basis", "6", "--readout-hidden", "6",
                  "--batch-size", "2", "--epochs", "2", "--seed", "1", "--threads", "1",
                  "-o", cls.model_path)
        cls.compressed = si_cell()
        cls.compressed.set_cell(cls.compressed.cell.array * 0.8, scale_atoms=True)
        cls.compressed_path = os.path.join(tmp, "compressed.xyz")
        write_extxyz(cls.compressed_path, cls.compressed)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def energy_warnings(self, atoms, **kwargs):
        atoms = atoms.copy()
        atoms.calc = MlpotCalculator(model=kwargs.pop("model", self.model_path), **kwargs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            atoms.get_potential_energy()
            atoms.get_forces()  # cached: the same structure warns once
        return [w for w in caught if issubclass(w.category, ExtrapolationWarning)]

    def test_ranges_stored(self):
        with mlpot.Model(self.model_path) as model:
            self.assertTrue(model.has_ranges)
        with mlpot.Model(SI_MODEL) as model:
            self.assertFalse(model.has_ranges)

    def test_training_frame_no_warning(self):
        self.assertEqual(self.energy_warnings(self.frames[2][0]), [])

    def test_compressed_cell_warns_once(self):
        caught = self.energy_warnings(self.compressed)
        self.assertEqual(len(caught), 1)
        text = str(caught[0].message)
        print(text)
        self.assertIn("extrapolating: 8 of 8 atoms", text)
        self.assertIn("closer to a neighbour than any in training", text)
        # the same text as `mlpot predict` prints
        err = mlpot_cli("predict", self.compressed_path, "--model", self.model_path).stderr
        self.assertIn(text[len("mlpot: "):], err)

    def test_silenced(self):
        self.assertEqual(self.energy_warnings(self.compressed, extrapolation_warnings=False), [])

    def test_model_without_ranges(self):
        self.assertEqual(self.energy_warnings(self.compressed, model=SI_MODEL), [])

    def test_committee_warns_for_any_member(self):
        # the first member has no ranges, the second is left: the committee warns once
        caught = self.energy_warnings(self.compressed, model=[SI_MODEL, self.model_path])
        self.assertEqual(len(caught), 1)
        self.assertIn("extrapolating: 8 of 8 atoms", str(caught[0].message))
        self.assertEqual(self.energy_warnings(self.compressed, model=[SI_MODEL, SI_MODEL]), [])


if __name__ == "__main__":
    unittest.main()
