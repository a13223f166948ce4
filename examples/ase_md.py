#!/usr/bin/python3
"""ase_md.py — molecular dynamics with mlpot through ASE: a 64-atom diamond Si supercell held
at 300 K by a Langevin thermostat, with the shipped Si potential, printing the temperature and
energies and writing an ASE trajectory.

    PYTHONPATH=python /usr/bin/python3 examples/ase_md.py [--steps 300] [--traj si_md.traj]

(with the package installed, `pip install ./python`, PYTHONPATH is not needed)."""

import argparse
import os
import time

import numpy as np
from ase import units
from ase.io import read
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

from mlpot.ase import MlpotCalculator

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="MD steps of 1 fs (default 300)")
    parser.add_argument("--temperature", type=float, default=300.0, help="K (default 300)")
    parser.add_argument("--traj", default="si_md.traj", help="trajectory file (default si_md.traj)")
    parser.add_argument("--model", default=None,
                        help="model file (default: the shipped potential that covers Si)")
    args = parser.parse_args()

    # 2x2x2 supercell of the 8-atom conventional diamond cell: 64 atoms
    atoms = read(os.path.join(HERE, "..", "structures", "Si.vasp")).repeat(2)
    atoms.calc = MlpotCalculator(model=args.model)

    rng = np.random.RandomState(1)  # seeded: the same run every time
    MaxwellBoltzmannDistribution(atoms, temperature_K=args.temperature, rng=rng)
    Stationary(atoms)  # zero total momentum
    dynamics = Langevin(atoms, timestep=1.0 * units.fs, temperature_K=args.temperature,
                        friction=0.01 / units.fs, rng=rng, trajectory=args.traj, loginterval=10)

    def report():
        n = len(atoms)
        e_pot, e_kin = atoms.get_potential_energy() / n, atoms.get_kinetic_energy() / n
        print(f"{dynamics.get_time() / units.fs:8.0f} fs  T {atoms.get_temperature():7.1f} K  "
              f"Epot {e_pot:10.5f}  Ekin {e_kin:8.5f}  Etot {e_pot + e_kin:10.5f} eV/atom")

    dynamics.attach(report, interval=max(1, args.steps // 10))
    start = time.perf_counter()
    dynamics.run(args.steps)
    seconds = time.perf_counter() - start
    print(f"{args.steps} steps in {seconds:.1f} s ({args.steps / seconds:.1f} steps/s); "
          f"potential {atoms.calc.model.path}; trajectory {args.traj}")


if __name__ == "__main__":
    main()
