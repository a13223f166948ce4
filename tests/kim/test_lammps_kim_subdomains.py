"""test_lammps_kim_subdomains.py — LAMMPS through mlpot's KIM driver when each rank's subdomain is
narrower than the model's reach n_layers * r_c, so that a rank's ghost shell holds several
periodic images of its own and of the other ranks' atoms and the driver's subset evaluation,
trimmed to the hops each layer needs, sees deep and lopsided shells. A `processors` layout slices
the rattled 2x2x2 Si supercell (10.9 Å) into 2 and 4 slabs along x (5.4 and 2.7 Å wide, against
n_layers * r_c = 10 Å of the shipped potential), and the rattled, sheared and rotated (triclinic) one
into 2 along y. Checked against `mlpot predict` to 1e-9 relative: energy, forces, per-atom
energies (pe/atom), the pressure tensor, and stress/atom summed over the atoms equal to -P V.

ctest runs it like test_lammps_kim.py, whose helpers it uses."""

import os
import shutil
import sys
import time

import numpy as np

from test_lammps_kim import (NKTV2P_METAL, STATIC_INPUT, check, failures, install_kim_items,
                             lammps_frame, static_results)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from mlpot_test_support import (SI_MODEL, predict_json, relative_deviation,  # noqa: E402
                                si_cell, write_extxyz)

# STATIC_INPUT with a processor grid (it must come before the box exists)
LAYOUT_INPUT = STATIC_INPUT.replace("boundary p p p\n", "boundary p p p\nprocessors {layout}\n")


def compare_layout(env, work, tag, atoms, layout, ranks, slab):
    path = os.path.join(work, f"{tag}.xyz")
    write_extxyz(path, atoms)
    ref = predict_json(SI_MODEL, path)
    sigma = np.array(ref["stress"])
    ref_pressure = -NKTV2P_METAL * sigma[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
    t0 = time.perf_counter()
    got = static_results(env, work, tag, atoms, ranks, script=LAYOUT_INPUT, layout=layout)
    where = f"{tag}, processors {layout} ({slab:.2f} Å slabs)"
    print(f"     {where}: LAMMPS run 0 on {ranks} ranks in {time.perf_counter() - t0:.1f} s")
    check(f"{where}: energy vs mlpot predict",
          abs(got["energy"] - ref["energy"]) / abs(ref["energy"]), 1e-9)
    check(f"{where}: forces vs mlpot predict", relative_deviation(got["forces"], ref["forces"]),
          1e-9)
    check(f"{where}: per-atom energies vs mlpot predict",
          relative_deviation(got["energies"], ref["energies"]), 1e-9)
    check(f"{where}: sum of pe/atom vs the energy",
          abs(np.sum(got["energies"]) - got["energy"]) / abs(got["energy"]), 1e-12)
    check(f"{where}: pressure tensor vs mlpot predict's stress",
          relative_deviation(got["pressure"], ref_pressure), 1e-9)
    check(f"{where}: sum of stress/atom vs -P V",
          relative_deviation(got["stress_sum"], -got["pressure"] * got["volume"]), 1e-9)


def main():
    build_dir, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    t0 = time.perf_counter()
    env = install_kim_items(build_dir, work)
    orthogonal = si_cell(repeat=2, rattle=0.05, seed=3)
    orthogonal.wrap()
    lx = orthogonal.cell.array[0, 0]
    for ranks in (2, 4):
        compare_layout(env, work, f"orthogonal-{ranks}x1x1", orthogonal, f"{ranks} 1 1", ranks,
                       lx / ranks)
    sheared = si_cell(repeat=2, rattle=0.05, seed=4,
                      strain=[[0.02, 0.07, -0.04], [0.03, -0.01, 0.05], [0.0, -0.06, 0.01]])
    sheared.rotate(37.0, (1.0, 2.0, 0.5), rotate_cell=True)
    triclinic = lammps_frame(sheared)[0]
    compare_layout(env, work, "triclinic-1x2x1", triclinic, "1 2 1", 2,
                   triclinic.cell.array[1, 1] / 2)
    if failures:
        raise SystemExit(f"{len(failures)} check(s) failed: " + "; ".join(failures))
    print(f"all checks passed in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
