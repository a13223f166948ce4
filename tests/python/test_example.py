"""test_example.py — examples/ase_md.py (the README's ASE example) runs: a short Langevin run
from another working directory prints temperatures and energies and writes a trajectory that
ASE reads back, with the energies and forces of the potential."""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from ase.io import read

import mlpot
from mlpot_test_support import SI_MODEL, SOURCE_DIR, python_env


class AseMdExample(unittest.TestCase):
    def test_short_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            traj = os.path.join(tmp, "md.traj")
            run = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "examples", "ase_md.py"),
                                  "--steps", "20", "--traj", traj, "--model", SI_MODEL],
                                 cwd=tmp, env=python_env(), capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertRegex(run.stdout, r"20 fs  T +[0-9.]+ K  Epot +-[0-9.]+")
            frames = read(traj, ":")
            self.assertEqual(len(frames), 3)  # steps 0, 10 and 20
            last = frames[-1]
            with mlpot.Model(SI_MODEL) as model:
                r = model.compute(last.numbers, last.positions, last.cell.array, last.pbc)
            self.assertAlmostEqual(last.get_potential_energy(), r.energy, delta=1e-9)
            np.testing.assert_allclose(last.get_forces(), r.forces, rtol=0, atol=1e-9)


if __name__ == "__main__":
    unittest.main(verbosity=2)
