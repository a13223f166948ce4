"""test_nve.py — energy conservation with ASE's VelocityVerlet: a 64-atom Si supercell (2x2x2
of structures/Si.vasp, rattled 0.05 Å, Maxwell-Boltzmann 300 K with zero total momentum,
seeded), dt = 1 fs, 1000 steps (1 ps). The slope of a straight-line fit of the total energy
per atom against time must stay below 1e-4 eV/atom/ps. Prints the drift, the fluctuation and
the speed (steps/s)."""

import time
import unittest

import numpy as np
from ase import units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

from mlpot.ase import MlpotCalculator
from mlpot_test_support import SI_MODEL, si_cell

STEPS = 1000
TIMESTEP_FS = 1.0
MAX_DRIFT = 1e-4  # eV/atom/ps


class EnergyConservation(unittest.TestCase):
    def test_velocity_verlet_1ps(self):
        atoms = si_cell(repeat=2, rattle=0.05, seed=42)
        atoms.calc = MlpotCalculator(model=SI_MODEL)
        MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.RandomState(42))
        Stationary(atoms)
        n = len(atoms)
        times_ps, totals, temperatures = [], [], []

        def record():
            times_ps.append(dynamics.get_time() / (1000 * units.fs))
            totals.append(atoms.get_total_energy() / n)
            temperatures.append(atoms.get_temperature())

        dynamics = VelocityVerlet(atoms, timestep=TIMESTEP_FS * units.fs)
        dynamics.attach(record, interval=1)
        start = time.perf_counter()
        dynamics.run(STEPS)
        seconds = time.perf_counter() - start
        drift, _ = np.polyfit(times_ps, totals, 1)
        spread = np.ptp(totals)
        print(f"NVE {n} atoms, {STEPS} steps of {TIMESTEP_FS} fs: drift {drift:+.2e} eV/atom/ps, "
              f"E_total/atom peak-to-peak {spread:.2e} eV, mean T {np.mean(temperatures):.0f} K, "
              f"{STEPS / seconds:.1f} steps/s ({seconds:.1f} s, "
              f"{seconds / STEPS / n * 1e6:.0f} µs/atom/step)")
        self.assertEqual(len(totals), STEPS + 1)
        self.assertGreater(np.mean(temperatures), 50, "the atoms move")
        self.assertLess(abs(drift), MAX_DRIFT)


if __name__ == "__main__":
    unittest.main(verbosity=2)
