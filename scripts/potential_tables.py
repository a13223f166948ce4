#!/usr/bin/python3
"""potential_tables.py — the Markdown tables of potentials/README.md from the validation results
(potentials/validation/<name>.json, written by validate_potential.py).

    /usr/bin/python3 scripts/potential_tables.py potentials/validation/*.json
"""
import json
import sys

# Published errors on the same test sets (SNAP / qSNAP of Zuo et al. 2020, run through LAMMPS;
# from the data's README): energy meV/atom, force eV/Å, stress GPa.
REFERENCE = {"Si": ((6.44, 3.81), (0.133, 0.116), (0.51, 0.41)),
             "Mo": ((5.48, 2.77), (0.207, 0.184), (1.53, 0.91)),
             "Li": ((1.03, 0.73), (0.028, 0.033), (0.13, 0.08))}


def fmt(x, d=2):
    return "—" if x is None else f"{x:.{d}f}"


def main():
    runs = [json.load(open(p)) for p in sys.argv[1:]]
    print("| potential | E MAE meV/atom (SNAP / qSNAP) | F MAE eV/Å (SNAP / qSNAP) "
          "| S MAE GPa (SNAP / qSNAP) |")
    print("|---|---:|---:|---:|")
    for r in runs:
        t = r["test"]["overall"]
        e, f, s = REFERENCE[r["element"]]
        print(f"| {r['model']} | {t['energy_mae_mev_per_atom']:.2f} ({e[0]} / {e[1]}) "
              f"| {t['force_mae_ev_per_a']:.3f} ({f[0]} / {f[1]}) "
              f"| {t['stress_mae_gpa']:.2f} ({s[0]} / {s[1]}) |")
    print()
    print("| potential | a0 Å (DFT) | B0 GPa (DFT) | C11 | C12 | C44 | C11, C12, C44 on the "
          "DFT frames: mlpot (DFT) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in runs:
        d = r["data"]
        dft = d["dft_yz_xz_exchanged"] if d["labels_yz_xz_exchanged"] else d["dft"]
        m = d["mlpot_same_frames"]
        el = r["elastic"]
        print(f"| {r['model']} | {r['eos']['a0']:.3f} ({d['a_reference']:.3f}) "
              f"| {r['eos']['B0_GPa']:.0f} ({dft['B']:.0f}) | {el['C11']:.0f} | {el['C12']:.0f} "
              f"| {el['C44']:.0f} | {m['C11']:.0f}, {m['C12']:.0f}, {m['C44']:.0f} "
              f"({dft['C11']:.0f}, {dft['C12']:.0f}, {dft['C44']:.0f}) |")
    print()
    print("| potential | vacancy E_f eV (unrelaxed) | phonons at high-symmetry points, THz |")
    print("|---|---:|---|")
    for r in runs:
        v = r["vacancy"]
        ph = "; ".join(f"{k}: " + (", ".join(f"{x:.2f}" for x in sorted(set(
            round(f, 2) for f in fs if abs(f) > 0.005))) or "0")
            for k, fs in r["phonons"].items())
        print(f"| {r['model']} ({v['n_atoms']} sites) | {v['E_relaxed_eV']:.2f} "
              f"({v['E_unrelaxed_eV']:.2f}) | {ph} |")
    print()
    print("| potential | atoms | NVT 300 K (mean T, 2nd half) | max / rms displacement Å "
          "| NVE drift eV/atom/ps | steps/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in runs:
        m = r.get("md")
        if not m:
            continue
        print(f"| {r['model']} | {m['n_atoms']} | {m['nvt_ps']:g} ps ({m['mean_T_second_half_nvt_K']:.0f} K) "
              f"| {m['max_displacement_A']:.2f} / {m['rms_displacement_A']:.2f} "
              f"| {m['nve_drift_eV_per_atom_per_ps']:.1e} over {m['nve_ps']:g} ps "
              f"| {m['steps_per_s']:.1f} |")


if __name__ == "__main__":
    main()
