"""test_lammps_kim.py — LAMMPS through mlpot's KIM model driver (interfaces/kim). Installs libmlpot
into a scratch prefix, builds and installs the driver and a portable model of the shipped Si
potential (`mlpot kim-model`) into a private KIM collection (the environment collection: nothing
in $HOME is touched), then checks against `mlpot predict`, to 1e-9 relative:
  - energy, forces, per-atom energies and pressure tensor of a rattled 2x2x2 Si supercell
    (orthogonal) and of a rattled, sheared and rotated one (triclinic, turned into LAMMPS's
    frame: a along x, b in the xy plane; mlpot predict gets the same rotated structure);
  - the same on 2 MPI ranks, and 1 vs 2 ranks to 1e-10;
  - the per-atom virials (stress/atom) summing to the pressure;
and that a short NVE run conserves energy (figures printed).

ctest runs it (tests/CMakeLists.txt) as `test_lammps_kim.py BUILD_DIR WORK_DIR` with Debian's
/usr/bin/python3, PYTHONPATH (python/), MLPOT_LIBRARY and MLPOT_BINARY, and LMP, MPIRUN,
KIM_COLLECTIONS_MANAGEMENT and CMAKE naming the programs."""

import glob
import os
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from mlpot_test_support import (SI_MODEL, SOURCE_DIR, BINARY, predict_json,  # noqa: E402
                                relative_deviation, si_cell, write_extxyz)

MODEL_NAME = "Si_mlearn_cgcnn_mlpot__MO_000000000000_000"
# LAMMPS's eV/Å^3 -> bar factor in units metal (force->nktv2p), not the CODATA value
NKTV2P_METAL = 1.6021765e6
LMP = os.environ.get("LMP", "lmp")
MPIRUN = os.environ.get("MPIRUN", "mpirun")
KIM_CM = os.environ.get("KIM_COLLECTIONS_MANAGEMENT", "kim-api-collections-management")
CMAKE = os.environ.get("CMAKE", "cmake")
failures = []


def check(what, deviation, tolerance):
    ok = deviation <= tolerance
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {deviation:.2e} (tolerance {tolerance:g})")
    if not ok:
        failures.append(what)


def run(command, env, cwd=None):
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stdout.write(done.stdout + done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    return done.stdout


def install_kim_items(build_dir, work):
    """libmlpot into WORK/prefix, then the driver and the portable model into WORK/kim."""
    prefix = os.path.join(work, "prefix")
    env = dict(os.environ)
    run([CMAKE, "--install", build_dir, "--prefix", prefix], env)
    pc_dir = os.path.dirname(glob.glob(os.path.join(prefix, "lib*", "pkgconfig", "mlpot.pc"))[0])
    kim = os.path.join(work, "kim")
    for d in ("drivers", "models", "simulator-models", "home", "tmp"):
        os.makedirs(os.path.join(kim, d))
    env.update(KIM_API_MODEL_DRIVERS_DIR=os.path.join(kim, "drivers"),
               KIM_API_PORTABLE_MODELS_DIR=os.path.join(kim, "models"),
               KIM_API_SIMULATOR_MODELS_DIR=os.path.join(kim, "simulator-models"),
               KIM_API_CONFIGURATION_FILE=os.path.join(kim, "kim-api-config"),
               HOME=os.path.join(kim, "home"), TMPDIR=os.path.join(kim, "tmp"),
               PKG_CONFIG_PATH=pc_dir)
    run([KIM_CM, "install", "environment", os.path.join(SOURCE_DIR, "interfaces", "kim")], env)
    models = os.path.join(work, "models")
    run([BINARY, "kim-model", SI_MODEL, MODEL_NAME, "-o", models], env)
    run([KIM_CM, "install", "environment", os.path.join(models, MODEL_NAME)], env)
    return env


def lammps_frame(atoms):
    """The structure rotated so that its cell is LAMMPS's restricted triclinic one (rows a =
    (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz)), atoms wrapped into it; and the rotation."""
    a, b, c = atoms.cell.array
    e1 = a / np.linalg.norm(a)
    e3 = np.cross(a, b) / np.linalg.norm(np.cross(a, b))
    rotation = np.array([e1, np.cross(e3, e1), e3])
    cell = atoms.cell.array @ rotation.T
    cell[0, 1:] = 0.0
    cell[1, 2] = 0.0
    assert cell[2, 2] > 0, "a left-handed cell"
    out = atoms.copy()
    out.set_cell(cell)
    fractional = np.linalg.solve(cell.T, (atoms.positions @ rotation.T).T).T
    out.positions = (fractional - np.floor(fractional)) @ cell
    return out, rotation


def write_lammps_data(path, atoms):
    cell = atoms.cell.array
    lines = ["mlpot KIM test", "", f"{len(atoms)} atoms", "1 atom types", "",
             f"0 {cell[0, 0]!r} xlo xhi", f"0 {cell[1, 1]!r} ylo yhi", f"0 {cell[2, 2]!r} zlo zhi"]
    if np.any(cell[1:, :2] != 0):
        lines.append(f"{cell[1, 0]!r} {cell[2, 0]!r} {cell[2, 1]!r} xy xz yz")
    lines += ["", "Atoms # atomic", ""]
    lines += [f"{k + 1} 1 {x!r} {y!r} {z!r}" for k, (x, y, z) in enumerate(atoms.positions)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


PREAMBLE = f"""kim init {MODEL_NAME} metal
boundary p p p
read_data {{data}}
mass 1 28.0855
kim interactions Si
"""

STATIC_INPUT = PREAMBLE + """compute pe_atom all pe/atom
compute stress_atom all stress/atom NULL virial
compute stress_sum all reduce sum c_stress_atom[1] c_stress_atom[2] c_stress_atom[3] &
  c_stress_atom[4] c_stress_atom[5] c_stress_atom[6]
thermo_style custom step pe pxx pyy pzz pxy pxz pyz vol c_stress_sum[1] c_stress_sum[2] &
  c_stress_sum[3] c_stress_sum[4] c_stress_sum[5] c_stress_sum[6]
thermo_modify format float %.17g
dump forces all custom 1 {dump} id fx fy fz c_pe_atom
dump_modify forces sort id format float %.17g
run 0
"""

# a small skin makes LAMMPS rebuild its neighbour lists (and KIM's particles) every few steps
NVE_INPUT = PREAMBLE + """neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
velocity all create 600.0 4928459 mom yes rot yes dist gaussian
timestep 0.001
fix integrate all nve
thermo 10
thermo_style custom step temp pe ke etotal
thermo_modify format float %.17g norm no
run {steps}
"""


def lammps(env, work, tag, script, ranks):
    """Runs LAMMPS on `ranks` MPI ranks (one OpenMP thread each); returns the log's text."""
    path = os.path.join(work, f"in.{tag}")
    with open(path, "w") as f:
        f.write(script)
    log = os.path.join(work, f"log.{tag}")
    command = [LMP, "-in", path, "-log", log, "-screen", "none"]
    if ranks > 1:
        command = [MPIRUN, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks)] + command
    run(command, dict(env, OMP_NUM_THREADS="1"), cwd=work)
    with open(log) as f:
        return f.read()


def thermo_rows(log):
    """The rows of the (last) thermo table as arrays, keyed by column name."""
    lines = log.splitlines()
    start = max(k for k, line in enumerate(lines) if line.split()[:1] == ["Step"])
    names, rows = lines[start].split(), []
    for line in lines[start + 1:]:
        if line.startswith("Loop time"):
            break
        rows.append([float(x) for x in line.split()])
    return {name: np.array([row[k] for row in rows]) for k, name in enumerate(names)}


def static_results(env, work, tag, atoms, ranks, script=STATIC_INPUT, **fields):
    """LAMMPS's run 0 of `script` (STATIC_INPUT or one with more {fields}) on atoms."""
    data, dump = os.path.join(work, f"{tag}.data"), os.path.join(work, f"{tag}.r{ranks}.dump")
    write_lammps_data(data, atoms)
    log = lammps(env, work, f"{tag}.r{ranks}", script.format(data=data, dump=dump, **fields),
                 ranks)
    thermo = {k: v[0] for k, v in thermo_rows(log).items()}
    with open(dump) as f:
        lines = f.read().splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("ITEM: ATOMS")) + 1
    table = np.array([[float(x) for x in line.split()] for line in lines[start:]])
    assert np.array_equal(table[:, 0], np.arange(1, len(atoms) + 1)), "atom ids"
    pressure = np.array([thermo[k] for k in ("Pxx", "Pyy", "Pzz", "Pxy", "Pxz", "Pyz")])
    stress_sum = np.array([thermo[f"c_stress_sum[{k}]"] for k in range(1, 7)])
    return {"energy": thermo["PotEng"], "forces": table[:, 1:4], "energies": table[:, 4],
            "pressure": pressure, "stress_sum": stress_sum, "volume": thermo["Volume"]}


def compare_static(env, work, tag, atoms, original=None, rotation=None):
    path = os.path.join(work, f"{tag}.xyz")
    write_extxyz(path, atoms)
    ref = predict_json(SI_MODEL, path)
    sigma = np.array(ref["stress"])
    ref_pressure = -NKTV2P_METAL * sigma[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
    if original is not None:  # the test's own frame change: mlpot sees the same physics
        orig_path = os.path.join(work, f"{tag}.original.xyz")
        write_extxyz(orig_path, original)
        orig = predict_json(SI_MODEL, orig_path)
        check(f"{tag}: energy invariant under the frame change",
              abs(orig["energy"] - ref["energy"]) / abs(ref["energy"]), 1e-9)
        check(f"{tag}: forces rotate with the frame",
              relative_deviation(np.array(orig["forces"]) @ rotation.T, ref["forces"]), 1e-9)
    results = {}
    for ranks in (1, 2):
        t0 = time.perf_counter()
        got = static_results(env, work, tag, atoms, ranks)
        print(f"     {tag}, {ranks} rank(s): LAMMPS run 0 in {time.perf_counter() - t0:.1f} s")
        where = f"{tag}, {ranks} rank(s)"
        check(f"{where}: energy vs mlpot predict",
              abs(got["energy"] - ref["energy"]) / abs(ref["energy"]), 1e-9)
        check(f"{where}: forces vs mlpot predict", relative_deviation(got["forces"], ref["forces"]),
              1e-9)
        check(f"{where}: per-atom energies vs mlpot predict",
              relative_deviation(got["energies"], ref["energies"]), 1e-9)
        check(f"{where}: pressure tensor vs mlpot predict's stress",
              relative_deviation(got["pressure"], ref_pressure), 1e-9)
        check(f"{where}: sum of stress/atom (per-atom virials) vs -P V",
              relative_deviation(got["stress_sum"], -got["pressure"] * got["volume"]), 1e-9)
        results[ranks] = got
    for key in ("energy", "forces", "energies", "pressure"):
        check(f"{tag}: {key}, 1 vs 2 ranks", relative_deviation(results[2][key], results[1][key]),
              1e-10)


def nve(env, work, atoms, steps, ranks):
    """An NVE run from a perfect crystal with velocities for 600 K (about 300 K once shared with
    the potential energy); returns its thermo table, max |E - E0| per atom and the drift."""
    data = os.path.join(work, "nve.data")
    write_lammps_data(data, atoms)
    t0 = time.perf_counter()
    log = lammps(env, work, f"nve.r{ranks}", NVE_INPUT.format(data=data, steps=steps), ranks)
    seconds = time.perf_counter() - t0
    thermo = thermo_rows(log)
    n = len(atoms)
    total = thermo["TotEng"]
    drift = np.polyfit(thermo["Step"] * 1e-3, total / n, 1)[0]
    spread = np.max(np.abs(total - total[0])) / n
    builds = [line for line in log.splitlines() if line.startswith("Neighbor list builds")]
    print(f"     NVE, {n} atoms, {steps} steps of 1 fs on {ranks} rank(s) in {seconds:.1f} s "
          f"({n * steps / seconds:.0f} atom-steps/s): mean T {np.mean(thermo['Temp']):.0f} K, "
          f"drift {drift:+.2e} eV/atom/ps, max |E - E0| {spread:.2e} eV/atom; "
          f"{builds[-1] if builds else ''}")
    return thermo, spread, drift


def main():
    build_dir, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    t0 = time.perf_counter()
    env = install_kim_items(build_dir, work)
    print(f"     driver and portable model {MODEL_NAME} built and installed in "
          f"{time.perf_counter() - t0:.1f} s")

    orthogonal = si_cell(repeat=2, rattle=0.05, seed=3)
    orthogonal.wrap()
    compare_static(env, work, "orthogonal", orthogonal)

    sheared = si_cell(repeat=2, rattle=0.05, seed=4,
                      strain=[[0.02, 0.07, -0.04], [0.03, -0.01, 0.05], [0.0, -0.06, 0.01]])
    sheared.rotate(37.0, (1.0, 2.0, 0.5), rotate_cell=True)
    triclinic, rotation = lammps_frame(sheared)
    compare_static(env, work, "triclinic", triclinic, original=sheared, rotation=rotation)

    crystal = si_cell(repeat=2)
    one, spread, drift = nve(env, work, crystal, steps=100, ranks=1)
    check("NVE: max |E_total - E_total(0)| per atom (eV)", spread, 5e-4)
    check("NVE: |drift| (eV/atom/ps)", abs(drift), 1e-3)
    two = nve(env, work, crystal, steps=30, ranks=2)[0]
    common = len(two["Step"])
    for key in ("PotEng", "TotEng"):
        check(f"NVE: {key} along the trajectory, 1 vs 2 ranks",
              relative_deviation(two[key], one[key][:common]), 1e-10)
    if failures:
        raise SystemExit(f"{len(failures)} check(s) failed: " + "; ".join(failures))
    print(f"all checks passed in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
