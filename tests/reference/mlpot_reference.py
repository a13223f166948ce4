#!/usr/bin/env python3
"""Independent reference implementation of mlpot model files, versions 1 and 2.

Written from the contract only (spec/model.md and spec/formats.md of the shared
specification), never from mlpot's C model code, so that it can verify mlpot's energies,
per-atom energies, forces and stress to ~1e-9 relative.

- The model file is read with h5py (formats.md, "Model file").
- The structure is read with ase.io.read (POSCAR, extended XYZ, ...).
- The neighbour graph is built by brute force over periodic images (model.md §1).
- The three-body triplets of architecture "m3gnet" (model.md §8) are enumerated from that edge
  list: ordered pairs of distinct short edges (r < r_3) received by the same atom.
- The energy (model.md §2-§5, §8) is plain numpy code that also runs on complex128 input, so forces
  and stress (model.md §6) are obtained by the complex-step method: perturb one coordinate (or
  the strain) by i*h with h = 1e-30 and take Im(E)/h. This is exact to machine precision (no
  subtractive cancellation) and shares no code path with a hand-written backward pass.
  Every function on the way is analytic with branches chosen by the real part; |.| is never
  applied to a complex number.

Usage:
    mlpot_reference.py MODEL.h5 STRUCTURE [--format ASE_FORMAT] [--index N]
        prints one JSON object: energy, energy_per_atom, energies, forces, stress
        (stress only when periodic in all three directions; eV/Å^3, ASE sign), n_edges and,
        for m3gnet, n_triplets.
    mlpot_reference.py --self-test
        checks the implementation against finite differences, invariances and ASE's numerical
        stress on small random models it builds itself; exit status 1 on any failure.
    mlpot_reference.py --write-random-model ARCH OUT.h5 [--species Si,O] [--seed S]
        writes a random model file (ARCH cgcnn or megnet: version 1; m3gnet: version 2) in the
        formats.md layout (for testing readers).

Dependencies: numpy, h5py, ase (Debian python3-numpy, python3-h5py, python3-ase).
Python 3.11 compatible.
"""

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np

COMPLEX_STEP = 1e-30  # h of the complex-step derivative Im(f(x + i h)) / h
COINCIDENT = 1e-8  # Å: two atoms (or an atom and an image) closer than this are "at the same position"

FORMAT_NAME = "mlpot-model"
FORMAT_VERSIONS = (1, 2)
# model.md §9: the lowest model file version that defines each architecture
ARCHITECTURE_VERSION = {"cgcnn": 1, "megnet": 1, "m3gnet": 2}
ARCHITECTURES = tuple(ARCHITECTURE_VERSION)


class ReferenceError(Exception):
    """An invalid model file or structure (the message says what is wrong)."""


# ---------------------------------------------------------------------------------------------
# Elementary functions (model.md §2). All accept real or complex numpy arrays.
# ---------------------------------------------------------------------------------------------


def log1p_analytic(z):
    """log(1 + z), principal branch, accurate for real or complex z (helper for model.md §2 sp).

    numpy's complex log1p computes log|1 + z| as log(hypot(1 + a, b)) and so loses the real part
    for tiny a (log1p(1e-20 + 0j) = 0); here the real part is 0.5 * log1p(a (2 + a) + b^2) with
    the real log1p, and the imaginary part is atan2(b, 1 + a). This is the same analytic function.
    """
    z = np.asarray(z)
    if not np.iscomplexobj(z):
        return np.log1p(z)
    a = z.real
    b = z.imag
    return 0.5 * np.log1p(a * (2.0 + a) + b * b) + 1j * np.arctan2(b, 1.0 + a)


def _exp_minus_abs(x):
    """exp(-|x|) continued analytically: exp(-x) where Re x > 0, else exp(x) (model.md §2)."""
    positive = np.real(x) > 0
    return positive, np.exp(np.where(positive, -x, x))


def softplus(x):
    """Smooth softplus sp(x) = max(x, 0) + log1p(exp(-|x|)) (model.md §2).

    Analytic continuation for complex x, branch chosen by the real part:
    Re x > 0: x + log1p(exp(-x)); otherwise log1p(exp(x)).
    """
    x = np.asarray(x)
    positive, e = _exp_minus_abs(x)
    return np.where(positive, x, 0.0) + log1p_analytic(e)


def shifted_softplus(x):
    """Shifted softplus sp2(x) = sp(x) - ln 2 (model.md §2)."""
    return softplus(x) - math.log(2.0)


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)) (model.md §2), evaluated without overflow.

    Re x > 0: 1 / (1 + exp(-x)); otherwise exp(x) / (1 + exp(x)) (same analytic function).
    """
    x = np.asarray(x)
    positive, e = _exp_minus_abs(x)
    return np.where(positive, 1.0, e) / (1.0 + e)


def envelope(r, cutoff, p):
    """DimeNet polynomial envelope u(r) (model.md §2), x = r / r_c:

    u = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) - p(p+1)/2 x^(p+2) for x < 1 (real part), else 0.
    """
    x = np.asarray(r) / cutoff
    xp = x**p
    u = 1.0 - (p + 1) * (p + 2) / 2.0 * xp + p * (p + 2) * xp * x - p * (p + 1) / 2.0 * xp * x * x
    return np.where(np.real(x) < 1.0, u, 0.0)


def gaussian_basis(r, cutoff, n_basis):
    """Gaussian radial basis g_k(r) = exp(-(r - mu_k)^2 / sigma^2) (model.md §2).

    mu_k = r_c k / (K - 1), sigma = r_c / (K - 1), k = 0..K-1. Returns shape [n_edges, K].
    """
    k = np.arange(n_basis, dtype=float)
    mu = cutoff * k / (n_basis - 1)
    sigma = cutoff / (n_basis - 1)
    diff = np.asarray(r)[:, None] - mu[None, :]
    return np.exp(-(diff * diff) / (sigma * sigma))


# ---------------------------------------------------------------------------------------------
# Model files (formats.md, "Model file (HDF5)"; dataset names from model.md §3-§5)
# ---------------------------------------------------------------------------------------------


def model_dataset_shapes(model):
    """Names and shapes of every parameter dataset of a model (model.md §3, §4, §5, §8)."""
    S = len(model["species"])
    F = model["n_features"]
    K = model["n_basis"]
    H = model["readout_hidden"]
    shapes = {"embedding": (S, F), "species_energy": (S,)}
    if model["architecture"] == "cgcnn":
        for l in range(model["n_layers"]):
            shapes[f"layers/{l}/W_self"] = (F, 2 * F)
            shapes[f"layers/{l}/W_nbr"] = (F, 2 * F)
            shapes[f"layers/{l}/W_edge"] = (K, 2 * F)
            shapes[f"layers/{l}/b"] = (2 * F,)
    else:
        E = model["n_edge_features"]
        M = model["megnet_hidden"]
        shapes["edge_encoder/W"] = (K, E)
        shapes["edge_encoder/b"] = (E,)
        for l in range(model["n_layers"]):
            shapes[f"layers/{l}/edge/W1"] = (2 * F + E, M)
            shapes[f"layers/{l}/edge/b1"] = (M,)
            shapes[f"layers/{l}/edge/W2"] = (M, E)
            shapes[f"layers/{l}/edge/b2"] = (E,)
            shapes[f"layers/{l}/node/W1"] = (F + E, M)
            shapes[f"layers/{l}/node/b1"] = (M,)
            shapes[f"layers/{l}/node/W2"] = (M, F)
            shapes[f"layers/{l}/node/b2"] = (F,)
            if model["architecture"] == "m3gnet":
                Q = model["n_threebody_basis"] * (model["threebody_lmax"] + 1)
                shapes[f"layers/{l}/threebody/W_alpha"] = (F, Q)
                shapes[f"layers/{l}/threebody/b_alpha"] = (Q,)
                shapes[f"layers/{l}/threebody/W_value"] = (Q, E)
                shapes[f"layers/{l}/threebody/W_gate"] = (Q, E)
    shapes["readout/W1"] = (F, H)
    shapes["readout/b1"] = (H,)
    shapes["readout/W2"] = (H, 1)
    shapes["readout/b2"] = (1,)
    return shapes


def _attr_string(value):
    """An HDF5 string attribute as str (formats.md does not fix the string type: h5py gives str
    for variable-length strings, bytes for fixed-length ones; a 1-element array is accepted)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(())[()]
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8")
    return str(value)


def _attr_scalar(attrs, name, kind, path, required=True, default=None):
    """A numeric root attribute (formats.md "Root attributes") as int or float; a scalar or a
    1-element array."""
    if name not in attrs:
        if required:
            raise ReferenceError(f"{path}: missing root attribute '{name}'")
        return default
    value = np.asarray(attrs[name])
    if value.size != 1:
        raise ReferenceError(f"{path}: root attribute '{name}' must be a scalar")
    value = value.reshape(())[()]
    return int(value) if kind is int else float(value)


def read_model(path):
    """Reads an mlpot model file (formats.md "Model file") into a dict of attributes and arrays.

    Validates format/version, architecture, basis, envelope, species order and dataset shapes.
    """
    import h5py

    with h5py.File(path, "r") as f:
        attrs = f.attrs
        fmt = _attr_string(attrs["format"]) if "format" in attrs else None
        if fmt != FORMAT_NAME:
            raise ReferenceError(f"{path}: root attribute 'format' is {fmt!r}, expected '{FORMAT_NAME}'")
        version = _attr_scalar(attrs, "version", int, path)
        if version not in FORMAT_VERSIONS:
            raise ReferenceError(f"{path}: model file version {version} is not supported (this reader knows versions 1 and 2)")
        arch = _attr_string(attrs["architecture"]) if "architecture" in attrs else None
        known = [a for a, v in ARCHITECTURE_VERSION.items() if v <= version]
        if arch not in known:
            raise ReferenceError(f"{path}: architecture {arch!r} is not defined by model file version {version} "
                                 f"({', '.join(known)})")
        model = {"architecture": arch}
        model["species"] = [int(z) for z in np.asarray(attrs["species"]).reshape(-1)]
        if list(model["species"]) != sorted(set(model["species"])) or not model["species"]:
            raise ReferenceError(f"{path}: root attribute 'species' must be non-empty, ascending, unique")
        model["cutoff"] = _attr_scalar(attrs, "cutoff", float, path)
        model["n_layers"] = _attr_scalar(attrs, "n_layers", int, path)
        model["n_features"] = _attr_scalar(attrs, "n_features", int, path)
        model["n_basis"] = _attr_scalar(attrs, "n_basis", int, path)
        model["readout_hidden"] = _attr_scalar(attrs, "readout_hidden", int, path)
        model["avg_neighbors"] = _attr_scalar(attrs, "avg_neighbors", float, path)
        model["energy_scale"] = _attr_scalar(attrs, "energy_scale", float, path)
        model["energy_shift"] = _attr_scalar(attrs, "energy_shift", float, path)
        model["envelope_p"] = _attr_scalar(attrs, "envelope_p", int, path, required=False, default=6)
        if arch in ("megnet", "m3gnet"):
            model["n_edge_features"] = _attr_scalar(attrs, "n_edge_features", int, path)
            model["megnet_hidden"] = _attr_scalar(attrs, "megnet_hidden", int, path)
        if arch == "m3gnet":  # model.md §8 ranges
            model["threebody_cutoff"] = _attr_scalar(attrs, "threebody_cutoff", float, path)
            model["n_threebody_basis"] = _attr_scalar(attrs, "n_threebody_basis", int, path)
            model["threebody_lmax"] = _attr_scalar(attrs, "threebody_lmax", int, path)
            model["avg_threebody_neighbors"] = _attr_scalar(attrs, "avg_threebody_neighbors", float, path)
            if not 0.0 < model["threebody_cutoff"] <= model["cutoff"]:
                raise ReferenceError(f"{path}: threebody_cutoff {model['threebody_cutoff']} must be in (0, cutoff]")
            if model["n_threebody_basis"] < 2 or model["threebody_lmax"] < 0:
                raise ReferenceError(f"{path}: n_threebody_basis must be >= 2 and threebody_lmax >= 0")
            if not model["avg_threebody_neighbors"] > 0:
                raise ReferenceError(f"{path}: avg_threebody_neighbors must be > 0")
        basis = _attr_string(attrs["basis"]) if "basis" in attrs else None
        if basis != "gaussian":
            raise ReferenceError(f"{path}: root attribute 'basis' is {basis!r}, expected 'gaussian'")
        env = _attr_string(attrs["envelope"]) if "envelope" in attrs else None
        if env != "polynomial":
            raise ReferenceError(f"{path}: root attribute 'envelope' is {env!r}, expected 'polynomial'")
        if not model["cutoff"] > 0 or model["n_basis"] < 2 or model["avg_neighbors"] <= 0:
            raise ReferenceError(f"{path}: cutoff, n_basis or avg_neighbors out of range")
        params = {}
        for name, shape in model_dataset_shapes(model).items():
            if name not in f:
                raise ReferenceError(f"{path}: missing dataset '/{name}'")
            data = np.asarray(f[name][()], dtype=np.float64)
            if data.shape != shape:
                raise ReferenceError(f"{path}: dataset '/{name}' has shape {data.shape}, expected {shape}")
            params[name] = data
        model["params"] = params
    return model


def write_model(model, path):
    """Writes a model dict in the formats.md layout (root attributes, float64 datasets)."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT_NAME
        f.attrs["version"] = np.int32(ARCHITECTURE_VERSION[model["architecture"]])
        f.attrs["architecture"] = model["architecture"]
        f.attrs["species"] = np.asarray(model["species"], dtype=np.int32)
        f.attrs["cutoff"] = np.float64(model["cutoff"])
        for name in ("n_layers", "n_features", "n_basis", "readout_hidden"):
            f.attrs[name] = np.int32(model[name])
        if model["architecture"] in ("megnet", "m3gnet"):
            f.attrs["n_edge_features"] = np.int32(model["n_edge_features"])
            f.attrs["megnet_hidden"] = np.int32(model["megnet_hidden"])
        if model["architecture"] == "m3gnet":
            f.attrs["threebody_cutoff"] = np.float64(model["threebody_cutoff"])
            f.attrs["n_threebody_basis"] = np.int32(model["n_threebody_basis"])
            f.attrs["threebody_lmax"] = np.int32(model["threebody_lmax"])
            f.attrs["avg_threebody_neighbors"] = np.float64(model["avg_threebody_neighbors"])
        f.attrs["basis"] = "gaussian"
        f.attrs["envelope"] = "polynomial"
        f.attrs["envelope_p"] = np.int32(model["envelope_p"])
        for name in ("avg_neighbors", "energy_scale", "energy_shift"):
            f.attrs[name] = np.float64(model[name])
        f.attrs["description"] = "random model written by tests/reference/mlpot_reference.py"
        for name, data in model["params"].items():
            f.create_dataset(name, data=np.asarray(data, dtype=np.float64))


def random_model(arch, species=(8, 14), cutoff=4.0, n_features=5, n_layers=2, n_basis=6,
                 readout_hidden=4, n_edge_features=3, megnet_hidden=4, envelope_p=6,
                 avg_neighbors=7.5, energy_scale=0.8, energy_shift=-0.4, bias_std=0.3, seed=1,
                 threebody_cutoff=3.0, n_threebody_basis=4, threebody_lmax=3, avg_threebody_neighbors=5.0):
    """A random model (weights N(0, 1/n_in), biases and species energies N(0, bias_std))."""
    rng = np.random.default_rng(seed)
    model = {
        "architecture": arch, "species": sorted(species), "cutoff": float(cutoff),
        "n_layers": n_layers, "n_features": n_features, "n_basis": n_basis,
        "readout_hidden": readout_hidden, "envelope_p": envelope_p,
        "avg_neighbors": float(avg_neighbors), "energy_scale": float(energy_scale),
        "energy_shift": float(energy_shift),
    }
    if arch in ("megnet", "m3gnet"):
        model["n_edge_features"] = n_edge_features
        model["megnet_hidden"] = megnet_hidden
    if arch == "m3gnet":
        model["threebody_cutoff"] = float(threebody_cutoff)
        model["n_threebody_basis"] = n_threebody_basis
        model["threebody_lmax"] = threebody_lmax
        model["avg_threebody_neighbors"] = float(avg_threebody_neighbors)
    params = {}
    for name, shape in model_dataset_shapes(model).items():
        if name == "embedding":
            params[name] = rng.normal(0.0, 1.0, shape)
        elif len(shape) == 2:
            params[name] = rng.normal(0.0, 1.0 / math.sqrt(shape[0]), shape)
        else:
            params[name] = rng.normal(0.0, bias_std, shape)
    model["params"] = params
    return model


# ---------------------------------------------------------------------------------------------
# Neighbour graph (model.md §1), brute force over periodic images
# ---------------------------------------------------------------------------------------------


def _fractional_basis(cell, pbc):
    """Rows b_k with a_i . b_k = delta_ik for the periodic rows a_i of the cell.

    Non-periodic rows are replaced by an orthonormal basis of the complement of the periodic
    rows, so any cell (zeros along non-periodic directions included) gives a valid basis.
    """
    periodic = np.flatnonzero(pbc)
    basis = np.array(cell, dtype=float)
    if periodic.size < 3:
        if periodic.size:
            _, _, vt = np.linalg.svd(basis[periodic])
            complement = vt[periodic.size:]
        else:
            complement = np.eye(3)
        basis[np.flatnonzero(~pbc)] = complement
    if periodic.size and abs(np.linalg.det(basis)) < 1e-12 * max(1.0, np.abs(basis).max()) ** 3:
        raise ReferenceError("cell is singular along the periodic directions")
    return np.linalg.inv(basis).T


def build_edges(positions, cell, pbc, cutoff):
    """Every directed edge (i, j, n) with 0 < |r_j + n L - r_i| < r_c (model.md §1).

    n_k = 0 along non-periodic directions; images of atom i itself (j = i, n != 0) are edges;
    cells smaller than r_c are handled (image range from the reciprocal vectors). Two atoms
    at the same position (distance < 1e-8 Å, i != j or n != 0) raise ReferenceError.
    Returns (i, j, shifts) sorted by (i, j, n): int arrays [E], [E], [E, 3].
    """
    pos = np.asarray(positions, dtype=float)
    cell = np.asarray(cell, dtype=float)
    pbc = np.asarray(pbc, dtype=bool).reshape(3)
    n_atoms = len(pos)
    delta = pos[None, :, :] - pos[:, None, :]  # delta[i, j] = r_j - r_i
    ranges = []
    if pbc.any():
        recip = _fractional_basis(cell, pbc)
        frac = delta @ recip.T  # frac[i, j, k] = (r_j - r_i) . b_k
    for k in range(3):
        if not pbc[k]:
            ranges.append(np.array([0]))
            continue
        reach = cutoff * np.linalg.norm(recip[k])  # |c_k(d)| <= |d| |b_k| < r_c |b_k|
        lo = math.floor(np.min(-frac[:, :, k]) - reach)
        hi = math.ceil(np.max(-frac[:, :, k]) + reach)
        ranges.append(np.arange(lo, hi + 1))
    shifts = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3)
    ii, jj = np.meshgrid(np.arange(n_atoms), np.arange(n_atoms), indexing="ij")
    edges_i, edges_j, edges_n = [], [], []
    for n in shifts:
        d = delta + n @ cell
        r = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
        self_pair = (ii == jj) & (not n.any())
        close = (r < COINCIDENT) & ~self_pair
        if close.any():
            a, b = np.argwhere(close)[0]
            raise ReferenceError(
                f"atoms {a + 1} and {b + 1} (image {tuple(int(x) for x in n)}) are at the same position")
        keep = (r < cutoff) & ~self_pair
        edges_i.append(ii[keep])
        edges_j.append(jj[keep])
        edges_n.append(np.repeat(n[None, :], keep.sum(), axis=0))
    i = np.concatenate(edges_i)
    j = np.concatenate(edges_j)
    n = np.concatenate(edges_n).astype(np.int64).reshape(-1, 3)
    order = np.lexsort((n[:, 2], n[:, 1], n[:, 0], j, i))
    return i[order], j[order], n[order]


def species_indices(model, numbers):
    """Species index s_i = position of Z_i in the model's species list (model.md §1)."""
    from ase.data import chemical_symbols

    lookup = {z: s for s, z in enumerate(model["species"])}
    out = []
    for z in numbers:
        if int(z) not in lookup:
            known = ",".join(chemical_symbols[x] for x in model["species"])
            raise ReferenceError(f"element {chemical_symbols[int(z)]} is not in the model's species ({known})")
        out.append(lookup[int(z)])
    return np.asarray(out, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# Energy (model.md §3, §4, §5); every function works on real or complex arrays
# ---------------------------------------------------------------------------------------------


def edge_lengths(positions, cell, edges):
    """d_ij = r_j + n L - r_i and r_ij = sqrt(d . d) (model.md §1; complex-safe, no abs)."""
    i, j, n = edges
    d = positions[j] + n.astype(float) @ cell - positions[i]
    return d, np.sqrt(np.sum(d * d, axis=1))


def scatter_sum(values, receivers, n_atoms):
    """Sum over the edges each atom i receives, Σ_j (model.md §3 step 2, §4 node update);
    sequential in the fixed edge order."""
    out = np.zeros((n_atoms,) + values.shape[1:], dtype=values.dtype)
    np.add.at(out, receivers, values)
    return out


def cgcnn_node_features(model, species, edges, r):
    """Final node features h_i of architecture "cgcnn" (model.md §3)."""
    p = model["params"]
    F = model["n_features"]
    i, j, _ = edges
    u = envelope(r, model["cutoff"], model["envelope_p"])
    g = gaussian_basis(r, model["cutoff"], model["n_basis"])
    h = p["embedding"][species]
    for l in range(model["n_layers"]):
        z = (h[i] @ p[f"layers/{l}/W_self"] + h[j] @ p[f"layers/{l}/W_nbr"]
             + g @ p[f"layers/{l}/W_edge"] + p[f"layers/{l}/b"])
        m = u[:, None] * sigmoid(z[:, :F]) * softplus(z[:, F:])
        h = softplus(h + scatter_sum(m, i, len(species)) / model["avg_neighbors"])
    return h


def megnet_node_features(model, species, edges, d, r, not_short=None):
    """Final node features h_i of architecture "megnet" (model.md §4), activation sp2; for
    "m3gnet" (model.md §8) with the three-body update in front of each block."""
    p = model["params"]
    i, j, _ = edges
    u = envelope(r, model["cutoff"], model["envelope_p"])
    g = gaussian_basis(r, model["cutoff"], model["n_basis"])
    h = p["embedding"][species]
    a = shifted_softplus(g @ p["edge_encoder/W"] + p["edge_encoder/b"])
    if model["architecture"] == "m3gnet":
        short = short_edges(model, r, not_short)
    for l in range(model["n_layers"]):
        if model["architecture"] == "m3gnet":
            a = threebody_update(model, l, h, a, edges, d, r, short)
        x = np.concatenate([h[i], h[j], a], axis=1)
        a = a + shifted_softplus(
            shifted_softplus(x @ p[f"layers/{l}/edge/W1"] + p[f"layers/{l}/edge/b1"])
            @ p[f"layers/{l}/edge/W2"] + p[f"layers/{l}/edge/b2"])
        c = scatter_sum(u[:, None] * a, i, len(species)) / model["avg_neighbors"]
        y = np.concatenate([h, c], axis=1)
        h = h + shifted_softplus(
            shifted_softplus(y @ p[f"layers/{l}/node/W1"] + p[f"layers/{l}/node/b1"])
            @ p[f"layers/{l}/node/W2"] + p[f"layers/{l}/node/b2"])
    return h


def legendre(x, lmax):
    """P_0 .. P_lmax of x by the recurrence P_{l+1} = ((2l+1) x P_l - l P_{l-1}) / (l+1)
    (model.md §8); shape [len(x), lmax + 1], real or complex x."""
    x = np.asarray(x)
    out = [np.ones_like(x), x]
    for l in range(1, lmax):
        out.append(((2 * l + 1) * x * out[l] - l * out[l - 1]) / (l + 1))
    return np.stack(out[: lmax + 1], axis=1)


def short_edges(model, r, not_short=None):
    """Mask of the short edges, r < r_3 (model.md §8), decided on the real part of r.

    not_short (bool [E] or None) marks edges to treat as not short (the δ³ check of §8)."""
    short = np.real(r) < model["threebody_cutoff"]
    if not_short is not None:
        short = short & ~np.asarray(not_short, dtype=bool)
    return short


def triplet_list(receivers, short):
    """Triplets (a, b) of model.md §8: ordered pairs of distinct short edges a != b received by
    the same atom (j = k with different images included). Returns int arrays (ta, tb), sorted."""
    idx = np.flatnonzero(short)
    ta, tb = [], []
    for i in np.unique(receivers[idx]):
        mine = idx[receivers[idx] == i]
        a, b = np.meshgrid(mine, mine, indexing="ij")
        keep = a != b
        ta.append(a[keep])
        tb.append(b[keep])
    if not ta:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(ta), np.concatenate(tb)


def threebody_update(model, l, h, a, edges, d, r, short):
    """The three-body edge update of block l (model.md §8):
    alpha_k = sigmoid(h_k W_alpha + b_alpha);
    S_a[l N + n] = u_3(r_a)/n_3 sum_b u_3(r_b) P_l(cos theta_ab) q_n(r_b) alpha_{k(b)}[l N + n];
    a_a <- a_a + sp2(S_a W_v) * sigmoid(S_a W_g)."""
    p = model["params"]
    i, j, _ = edges
    r3 = model["threebody_cutoff"]
    N = model["n_threebody_basis"]
    lmax = model["threebody_lmax"]
    alpha = sigmoid(h @ p[f"layers/{l}/threebody/W_alpha"] + p[f"layers/{l}/threebody/b_alpha"])
    ta, tb = triplet_list(i, short)
    u3 = np.where(short, envelope(r, r3, model["envelope_p"]), 0.0)
    q = gaussian_basis(r, r3, N)  # q_n(r) = exp(-(r - nu_n)^2 / tau^2), nu_n = r_3 n/(N-1), tau = r_3/(N-1)
    cos = np.sum(d[ta] * d[tb], axis=1) / (r[ta] * r[tb])
    P = legendre(cos, lmax)  # [T, lmax + 1]
    basis = (P[:, :, None] * q[tb][:, None, :]).reshape(len(ta), N * (lmax + 1))  # index l N + n
    terms = u3[tb][:, None] * basis * alpha[j[tb]]
    S = scatter_sum(terms, ta, len(r)) * u3[:, None] / model["avg_threebody_neighbors"]
    update = shifted_softplus(S @ p[f"layers/{l}/threebody/W_value"]) * sigmoid(S @ p[f"layers/{l}/threebody/W_gate"])
    return a + np.where(short[:, None], update, 0.0)


def readout_atom_energies(model, species, h):
    """E_i = energy_scale (sp(h_i W1 + b1) W2 + b2) + energy_shift + species_energy[s_i] (model.md §5)."""
    p = model["params"]
    e = (softplus(h @ p["readout/W1"] + p["readout/b1"]) @ p["readout/W2"] + p["readout/b2"])[:, 0]
    return model["energy_scale"] * e + model["energy_shift"] + p["species_energy"][species]


def atom_energies(model, species, positions, cell, edges, not_short=None):
    """Per-atom energies E_i for a fixed edge list (model.md §3-§5, §8); real or complex input.
    not_short: edges treated as not short by m3gnet (None: none)."""
    d, r = edge_lengths(positions, cell, edges)
    if model["architecture"] == "cgcnn":
        h = cgcnn_node_features(model, species, edges, r)
    else:
        h = megnet_node_features(model, species, edges, d, r, not_short)
    return readout_atom_energies(model, species, h)


def total_energy(model, species, positions, cell, edges, not_short=None):
    """E = sum_i E_i (model.md §5)."""
    return np.sum(atom_energies(model, species, positions, cell, edges, not_short))


# ---------------------------------------------------------------------------------------------
# Forces and stress by the complex-step method (model.md §6, formats.md units and signs)
# ---------------------------------------------------------------------------------------------


def complex_step_forces(model, species, positions, cell, edges, h=COMPLEX_STEP, not_short=None):
    """F = -dE/dr (model.md §6): one complex energy per Cartesian coordinate, dE = Im(E) / h."""
    pos = np.asarray(positions, dtype=np.complex128)
    cell_c = np.asarray(cell, dtype=np.complex128)
    forces = np.zeros(pos.shape)
    for k in range(pos.shape[0]):
        for a in range(3):
            p = pos.copy()
            p[k, a] += 1j * h
            forces[k, a] = -total_energy(model, species, p, cell_c, edges, not_short).imag / h
    return forces


def strain_matrix(a, b):
    """Symmetric unit strain direction S: S_aa = 1, or S_ab = S_ba = 1/2 for a != b."""
    s = np.zeros((3, 3))
    s[a, b] += 0.5
    s[b, a] += 0.5
    return s


def strained(positions, cell, eps):
    """Positions and cell deformed by (I + eps) with fractional coordinates fixed (row vectors)."""
    t = np.eye(3) + eps
    return positions @ t.T, cell @ t.T


def complex_step_stress(model, species, positions, cell, edges, h=COMPLEX_STEP):
    """sigma = (1/V) dE/d(eps) at eps = 0, eps symmetric, V = |det L| (model.md §6; formats.md:
    ASE sign, negative under compression), by complex steps of the strain."""
    volume = abs(np.linalg.det(np.asarray(cell, dtype=float)))
    pos = np.asarray(positions, dtype=np.complex128)
    cell_c = np.asarray(cell, dtype=np.complex128)
    stress = np.zeros((3, 3))
    for a in range(3):
        for b in range(a, 3):
            p, c = strained(pos, cell_c, 1j * h * strain_matrix(a, b))
            stress[a, b] = stress[b, a] = total_energy(model, species, p, c, edges).imag / h / volume
    return stress


def evaluate(model, atoms, forces=True, stress=True, no_threebody_atoms=None):
    """Energy, per-atom energies, forces and stress of an ase.Atoms with a model dict.

    no_threebody_atoms: atom indices whose edges (sent or received) m3gnet treats as not short
    (the δ³ check of model.md §8; None for the model itself)."""
    species = species_indices(model, atoms.get_atomic_numbers())
    pos = np.asarray(atoms.get_positions(), dtype=float)
    cell = np.asarray(atoms.get_cell()[:], dtype=float)
    pbc = np.asarray(atoms.get_pbc(), dtype=bool)
    edges = build_edges(pos, cell, pbc, model["cutoff"])
    not_short = None
    if no_threebody_atoms is not None:
        not_short = np.isin(edges[0], no_threebody_atoms) | np.isin(edges[1], no_threebody_atoms)
    energies = atom_energies(model, species, pos, cell, edges, not_short)
    out = {"energy": float(np.sum(energies)), "energies": energies, "n_edges": len(edges[0])}
    if model["architecture"] == "m3gnet":
        _, r = edge_lengths(pos, cell, edges)
        ta, _ = triplet_list(edges[0], short_edges(model, r, not_short))
        out["n_triplets"] = len(ta)
    if forces:
        out["forces"] = complex_step_forces(model, species, pos, cell, edges, not_short=not_short)
    if stress and pbc.all() and not_short is None:
        out["stress"] = complex_step_stress(model, species, pos, cell, edges)
    return out


def result_json(result, n_atoms):
    """One JSON object (full float precision) of an evaluate() result."""
    obj = {
        "energy": result["energy"],
        "energy_per_atom": result["energy"] / n_atoms,
        "energies": [float(x) for x in result["energies"]],
    }
    if "forces" in result:
        obj["forces"] = [[float(x) for x in row] for row in result["forces"]]
    if "stress" in result:
        obj["stress"] = [[float(x) for x in row] for row in result["stress"]]
    obj["n_edges"] = int(result["n_edges"])
    if "n_triplets" in result:
        obj["n_triplets"] = int(result["n_triplets"])
    return json.dumps(obj)


# ---------------------------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------------------------


class _Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, deviation, tolerance):
        ok = bool(np.isfinite(deviation)) and deviation <= tolerance
        print(f"{'PASS' if ok else 'FAIL'} {name}: deviation {deviation:.3e} (tolerance {tolerance:.1e})")
        if ok:
            self.passed += 1
        else:
            self.failed += 1

    def truth(self, name, condition, detail=""):
        print(f"{'PASS' if condition else 'FAIL'} {name}{': ' + detail if detail else ''}")
        if condition:
            self.passed += 1
        else:
            self.failed += 1


def five_point(f, x0, h):
    """(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / (12 h)."""
    return (-f(x0 + 2 * h) + 8 * f(x0 + h) - 8 * f(x0 - h) + f(x0 - 2 * h)) / (12 * h)


def random_structure(rng, numbers, cell, pbc, min_distance=1.5, box=None):
    """Random atoms (ase.Atoms) with all interatomic distances (images included) >= min_distance."""
    from ase import Atoms

    cell = np.asarray(cell, dtype=float)
    for _ in range(10000):
        if box is None:
            pos = rng.random((len(numbers), 3)) @ cell
        else:
            pos = rng.random((len(numbers), 3)) * np.asarray(box)
        try:
            i, j, n = build_edges(pos, cell, pbc, min_distance)
        except ReferenceError:
            continue
        if len(i) == 0:
            return Atoms(numbers=numbers, positions=pos, cell=cell, pbc=pbc)
    raise RuntimeError("could not place atoms")


def _energy_of(model, atoms):
    species = species_indices(model, atoms.get_atomic_numbers())
    edges = build_edges(atoms.positions, atoms.cell[:], atoms.pbc, model["cutoff"])
    return float(total_energy(model, species, atoms.positions, atoms.cell[:], edges))


def _rel(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _self_test_functions(c):
    """model.md §2: sp, sp2, sigmoid, envelope and basis values and complex-step derivatives."""
    x = np.linspace(-40.0, 40.0, 801)
    c.check("sp(x) = logaddexp(0, x)", _rel(softplus(x), np.logaddexp(0.0, x)), 1e-15)
    c.check("sp(0) = ln 2", abs(softplus(np.array(0.0)) - math.log(2.0)), 1e-16)
    c.check("sp(-740) > 0 and tiny", abs(softplus(np.array(-740.0)) - math.exp(-740.0)), 1e-320)
    c.check("sp2(0) = 0", abs(shifted_softplus(np.array(0.0))), 1e-16)
    c.check("sigmoid(x) = 1/(1+exp(-x))", _rel(sigmoid(x), 1.0 / (1.0 + np.exp(-x))), 1e-15)
    xc = x + 1j * COMPLEX_STEP
    c.check("sp'(x) = sigmoid(x) (complex step)", _rel(softplus(xc).imag / COMPLEX_STEP, sigmoid(x)), 1e-15)
    c.check("sp'(0) = 1/2 (complex step)",
            abs(softplus(np.array(1j * COMPLEX_STEP)).imag / COMPLEX_STEP - 0.5), 1e-16)
    c.check("sigmoid' = s (1 - s) (complex step)",
            _rel(sigmoid(xc).imag / COMPLEX_STEP, sigmoid(x) * (1 - sigmoid(x))), 1e-14)
    c.check("sp of large complex arguments is finite",
            0.0 if np.all(np.isfinite(softplus(np.array([800.0 + 1e-30j, -800.0 + 1e-30j])))) else 1.0, 0.0)
    rc = 4.0
    r = np.linspace(0.01, 3.999, 500)
    xx = r / rc
    c.check("envelope p=6 = 1 - 28x^6 + 48x^7 - 21x^8 (absolute)",
            float(np.max(np.abs(envelope(r, rc, 6) - (1 - 28 * xx**6 + 48 * xx**7 - 21 * xx**8)))), 1e-13)
    du = envelope(r + 1j * COMPLEX_STEP, rc, 6).imag / COMPLEX_STEP
    c.check("envelope du/dx = -168 x^5 (1-x)^2", _rel(du * rc, -168 * xx**5 * (1 - xx) ** 2), 1e-12)
    c.check("envelope vanishes at and beyond r_c",
            float(np.max(np.abs(envelope(np.array([rc, rc + 0.1, 10.0]), rc, 6)))), 0.0)
    for p in (3, 5, 8):
        # triple zero at r_c: u(r_c (1 - t)) = p(p+1)(p+2)/6 t^3 + O(t^4)
        t = 1e-3
        lead = p * (p + 1) * (p + 2) / 6.0 * t**3
        c.check(f"envelope p={p}: u(r_c (1 - t)) = p(p+1)(p+2)/6 t^3 + O(t^4) (relative)",
                abs(float(envelope(np.array(rc * (1 - t)), rc, p)) - lead) / lead, 2e-2)
    g = gaussian_basis(np.array([0.0, 2.0]), rc, 5)
    expect = np.exp(-((np.array([[0.0], [2.0]]) - np.array([0, 1, 2, 3, 4.0])) ** 2))
    c.check("gaussian basis mu_k = r_c k/(K-1), sigma = r_c/(K-1)", _rel(g, expect), 1e-15)
    from numpy.polynomial import legendre as npleg

    x = np.linspace(-1.2, 1.2, 97)
    mine = legendre(x, 6)
    theirs = np.stack([npleg.legval(x, np.eye(7)[l]) for l in range(7)], axis=1)
    c.check("Legendre recurrence P_0..P_6 = numpy.polynomial.legendre", _rel(mine, theirs), 1e-14)
    c.truth("Legendre lmax = 0 and 1 shapes", legendre(x, 0).shape == (97, 1) and legendre(x, 1).shape == (97, 2))


def _self_test_graph(c):
    """model.md §1: edge counts of diamond Si, small cells, non-periodic directions, errors."""
    from ase import Atoms
    from ase.build import bulk

    si = bulk("Si", "diamond", a=5.431, cubic=True)
    for rc, count in ((5.0, 224), (3.0, 32)):
        i, _, _ = build_edges(si.positions, si.cell[:], si.pbc, rc)
        c.truth(f"diamond Si (8 atoms) at r_c = {rc}: {count} edges", len(i) == count, f"got {len(i)}")
    prim = bulk("Si", "diamond", a=5.431)  # fcc primitive cell, 2 atoms, 3.84 Å vectors
    i, _, _ = build_edges(prim.positions, prim.cell[:], prim.pbc, 5.0)
    c.truth("diamond Si primitive cell (2 atoms) at r_c = 5: 56 edges", len(i) == 56, f"got {len(i)}")
    one = Atoms("Si", positions=[[0.3, 0.2, 0.1]], cell=np.eye(3) * 2.0, pbc=True)
    i, j, _ = build_edges(one.positions, one.cell[:], one.pbc, 2.5)
    # images at |n| 2.0 (6), 2*sqrt2 = 2.83 > 2.5: 6 edges
    c.truth("1-atom cubic cell a = 2, r_c = 2.5: 6 self-image edges", len(i) == 6 and np.all(i == j), f"got {len(i)}")
    i, _, _ = build_edges(one.positions, one.cell[:], one.pbc, 4.1)
    # |n|^2 * 4 < 16.81: |n|^2 <= 4: 6 + 12 + 8 + 6 = 32
    c.truth("1-atom cubic cell a = 2, r_c = 4.1: 32 edges", len(i) == 32, f"got {len(i)}")
    i, _, n = build_edges(one.positions, one.cell[:], [True, True, False], 2.5)
    c.truth("pbc T T F: no images along z", len(i) == 4 and not n[:, 2].any(), f"got {len(i)}")
    zero_cell = np.zeros((3, 3))
    zero_cell[0, 0] = 2.0
    two = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    i, _, n = build_edges(two, zero_cell, [True, False, False], 2.5)
    # pair at 1.0 both ways; images along x at 2 (self, both atoms, 2 each); pair + x image at sqrt5 = 2.236
    c.truth("chain along x with zero rows in the cell: 10 edges", len(i) == 10, f"got {len(i)}")
    # cross-check (only here) against ASE's neighbour list on random cells, small ones included
    from ase.neighborlist import neighbor_list

    rng = np.random.default_rng(7)
    for trial, (cell, pbc, rc) in enumerate((
            ([[2.7, 0, 0], [0.3, 2.75, 0], [0.2, -0.1, 2.65]], [True] * 3, 4.5),
            ([[5.1, 0, 0], [-1.9, 4.4, 0], [0.8, 1.1, 4.0]], [True] * 3, 4.5),
            ([[1.6, 0, 0], [0.9, 1.7, 0], [0.4, 0.3, 1.8]], [True] * 3, 3.3),
            ([[4.2, 0, 0], [1.5, 3.9, 0], [0, 0, 10.0]], [True, True, False], 4.5),
            ([[3.1, 0.2, 0.1], [0, 0, 0], [0, 0, 0]], [True, False, False], 4.0))):
        atoms = random_structure(rng, [14, 8, 8, 14, 8][: 2 + trial % 3], cell, pbc, min_distance=0.8,
                                 box=None if all(pbc) else (4.0, 4.0, 4.0))
        mine = build_edges(atoms.positions, atoms.cell[:], atoms.pbc, rc)
        ai, aj, ash = neighbor_list("ijS", atoms, rc, self_interaction=False)
        a = sorted(zip(mine[0].tolist(), mine[1].tolist(), map(tuple, mine[2].tolist())))
        b = sorted(zip(ai.tolist(), aj.tolist(), map(tuple, ash.tolist())))
        c.truth(f"edge set equals ASE's neighbour list (cell {trial + 1}, pbc {pbc}, r_c {rc})",
                a == b, f"{len(a)} edges (ASE {len(b)})")
    try:
        build_edges(np.array([[0.0, 0, 0], [2.0, 0, 0]]), np.eye(3) * 2.0, [True] * 3, 3.0)
        c.truth("atom on the image of another is an error", False)
    except ReferenceError as e:
        c.truth("atom on the image of another is an error", "atoms 1 and 2" in str(e), str(e))


def _ase_calculator(model):
    """An ASE calculator of the reference (for ASE's own numerical stress and forces)."""
    from ase.calculators.calculator import Calculator, all_changes

    class ReferenceCalculator(Calculator):
        implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            want_f = "forces" in properties
            want_s = "stress" in properties
            res = evaluate(model, self.atoms, forces=want_f, stress=want_s)
            self.results["energy"] = res["energy"]
            self.results["free_energy"] = res["energy"]
            self.results["energies"] = res["energies"]
            if want_f:
                self.results["forces"] = res["forces"]
            if want_s:
                s = res["stress"]
                self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])

    return ReferenceCalculator()


def _loop_atom_energies(model, species, positions, cell, edges):
    """model.md §2-§5 again, written as plain Python loops over atoms, edges and vector entries
    with the math module (real numbers only): a check of the numpy indexing and broadcasting."""
    p = {k: v.tolist() for k, v in model["params"].items()}
    rc, K, F, pe = model["cutoff"], model["n_basis"], model["n_features"], model["envelope_p"]
    sp = lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # noqa: E731
    sp2 = lambda x: sp(x) - math.log(2.0)  # noqa: E731
    sig = lambda x: 1.0 / (1.0 + math.exp(-x))  # noqa: E731

    def affine(x, W, b, act=None):
        y = [b[o] + sum(x[k] * W[k][o] for k in range(len(x))) for o in range(len(b))]
        return [act(v) for v in y] if act else y

    n_atoms = len(species)
    ei, ej, en = (e.tolist() for e in edges)
    def env(re, cut):
        x = re / cut
        return 1 - (pe + 1) * (pe + 2) / 2 * x**pe + pe * (pe + 2) * x ** (pe + 1) - pe * (pe + 1) / 2 * x ** (pe + 2) \
            if x < 1 else 0.0

    r, u, g, dv = [], [], [], []
    for e in range(len(ei)):
        d = [positions[ej[e]][a] + sum(en[e][k] * cell[k][a] for k in range(3)) - positions[ei[e]][a]
             for a in range(3)]
        re = math.sqrt(sum(x * x for x in d))
        dv.append(d)
        r.append(re)
        u.append(env(re, rc))
        g.append([math.exp(-((re - rc * k / (K - 1)) ** 2) / (rc / (K - 1)) ** 2) for k in range(K)])
    h = [list(p["embedding"][s]) for s in species]
    if model["architecture"] in ("megnet", "m3gnet"):
        a = [affine(g[e], p["edge_encoder/W"], p["edge_encoder/b"], sp2) for e in range(len(ei))]
    for l in range(model["n_layers"]):
        if model["architecture"] == "cgcnn":
            agg = [[0.0] * F for _ in range(n_atoms)]
            for e in range(len(ei)):
                z = [sum(h[ei[e]][k] * p[f"layers/{l}/W_self"][k][o] for k in range(F))
                     + sum(h[ej[e]][k] * p[f"layers/{l}/W_nbr"][k][o] for k in range(F))
                     + sum(g[e][k] * p[f"layers/{l}/W_edge"][k][o] for k in range(K))
                     + p[f"layers/{l}/b"][o] for o in range(2 * F)]
                for o in range(F):
                    agg[ei[e]][o] += u[e] * sig(z[o]) * sp(z[F + o])
            h = [[sp(h[i][o] + agg[i][o] / model["avg_neighbors"]) for o in range(F)] for i in range(n_atoms)]
        else:
            E = model["n_edge_features"]
            if model["architecture"] == "m3gnet":  # model.md §8, triplet by triplet
                r3, N, lmax = model["threebody_cutoff"], model["n_threebody_basis"], model["threebody_lmax"]
                tb = f"layers/{l}/threebody/"
                alpha = [affine(h[k], p[tb + "W_alpha"], p[tb + "b_alpha"], sig) for k in range(n_atoms)]
                new_a = []
                for ea in range(len(ei)):
                    if r[ea] >= r3:
                        new_a.append(a[ea])
                        continue
                    S = [0.0] * (N * (lmax + 1))
                    for eb in range(len(ei)):
                        if eb == ea or ei[eb] != ei[ea] or r[eb] >= r3:
                            continue
                        x = sum(dv[ea][c] * dv[eb][c] for c in range(3)) / (r[ea] * r[eb])
                        P = [1.0, x]
                        for m in range(1, lmax):
                            P.append(((2 * m + 1) * x * P[m] - m * P[m - 1]) / (m + 1))
                        for ll in range(lmax + 1):
                            for n in range(N):
                                q = math.exp(-((r[eb] - r3 * n / (N - 1)) ** 2) / (r3 / (N - 1)) ** 2)
                                S[ll * N + n] += env(r[eb], r3) * P[ll] * q * alpha[ej[eb]][ll * N + n]
                    S = [env(r[ea], r3) / model["avg_threebody_neighbors"] * v for v in S]
                    val = affine(S, p[tb + "W_value"], [0.0] * E, sp2)
                    gate = affine(S, p[tb + "W_gate"], [0.0] * E, sig)
                    new_a.append([a[ea][o] + val[o] * gate[o] for o in range(E)])
                a = new_a
            for e in range(len(ei)):
                hidden = affine(h[ei[e]] + h[ej[e]] + a[e], p[f"layers/{l}/edge/W1"], p[f"layers/{l}/edge/b1"], sp2)
                delta = affine(hidden, p[f"layers/{l}/edge/W2"], p[f"layers/{l}/edge/b2"], sp2)
                a[e] = [a[e][o] + delta[o] for o in range(E)]
            cs = [[0.0] * E for _ in range(n_atoms)]
            for e in range(len(ei)):
                for o in range(E):
                    cs[ei[e]][o] += u[e] * a[e][o] / model["avg_neighbors"]
            new_h = []
            for i in range(n_atoms):
                hidden = affine(h[i] + cs[i], p[f"layers/{l}/node/W1"], p[f"layers/{l}/node/b1"], sp2)
                delta = affine(hidden, p[f"layers/{l}/node/W2"], p[f"layers/{l}/node/b2"], sp2)
                new_h.append([h[i][o] + delta[o] for o in range(F)])
            h = new_h
    out = []
    for i in range(n_atoms):
        e_i = affine(affine(h[i], p["readout/W1"], p["readout/b1"], sp), p["readout/W2"], p["readout/b2"])[0]
        out.append(model["energy_scale"] * e_i + model["energy_shift"] + p["species_energy"][species[i]])
    return out


def _self_test_model(c, arch, seed):
    """model.md §3-§7 for one architecture on a small random model."""
    from ase import Atoms

    rng = np.random.default_rng(seed)
    model = random_model(arch, seed=seed)
    tag = f"[{arch}]"

    # --- model file round trip (formats.md) ---
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.h5")
        write_model(model, path)
        loaded = read_model(path)
    cell = np.array([[4.3, 0.0, 0.0], [0.7, 4.1, 0.0], [-0.4, 0.5, 3.9]])
    bulk_atoms = random_structure(rng, [14, 8, 8, 14, 8], cell, [True] * 3)
    e1 = _energy_of(model, bulk_atoms)
    e2 = _energy_of(loaded, bulk_atoms)
    c.check(f"{tag} model file round trip: same energy", abs(e1 - e2), 0.0)

    small = Atoms(numbers=[14, 8], positions=[[0.1, 0.2, 0.05], [1.4, 1.2, 1.3]],
                  cell=[[2.7, 0.0, 0.0], [0.3, 2.75, 0.0], [0.2, -0.1, 2.65]], pbc=True)
    slab = random_structure(rng, [14, 8, 8, 14], [[4.6, 0, 0], [0.5, 4.4, 0], [0, 0, 12.0]],
                            [True, True, False], box=(4.6, 4.4, 3.0))
    molecule = Atoms(numbers=[14, 8, 8, 14],
                     positions=[[0.0, 0.0, 0.0], [1.62, 0.1, -0.05], [-0.3, 1.58, 0.2], [1.3, 1.7, 1.3]])
    if arch == "m3gnet":
        _self_test_m3gnet_file(c, model)
        # the 2.7 Å cell is shorter than r_3 = 3: j = k triplets (one atom seen through two images)
        edges = build_edges(small.positions, small.cell[:], small.pbc, model["cutoff"])
        _, r = edge_lengths(small.positions, small.cell[:], edges)
        ta, tb = triplet_list(edges[0], short_edges(model, r))
        same = edges[1][ta] == edges[1][tb]
        c.truth(f"{tag} 2-atom cell < r_3 has j = k triplets (different images)",
                same.any() and np.all(np.any(edges[2][ta[same]] != edges[2][tb[same]], axis=1)),
                f"{int(same.sum())} of {len(ta)} triplets")
    structures = {"triclinic bulk": bulk_atoms, "2-atom cell < r_c": small,
                  "slab (T T F)": slab, "molecule": molecule}

    for name, atoms in structures.items():
        res = evaluate(model, atoms)
        sp_idx = species_indices(model, atoms.numbers)
        edges = build_edges(atoms.positions, atoms.cell[:], atoms.pbc, model["cutoff"])
        loop = _loop_atom_energies(model, sp_idx.tolist(), atoms.positions.tolist(), atoms.cell[:].tolist(), edges)
        c.check(f"{tag} {name}: E_i equal a plain-loop implementation", float(np.max(np.abs(
            np.asarray(loop) - res["energies"]))), 1e-13)
        f = res["forces"]
        fscale = max(np.max(np.abs(f)), 1e-3)
        # sum of per-atom energies
        c.check(f"{tag} {name}: sum E_i = E", abs(np.sum(res["energies"]) - res["energy"]),
                1e-13 * max(1.0, abs(res["energy"])))
        # forces vs five-point finite differences (h = 1e-3 Å)
        fd = np.zeros_like(f)
        pos0 = atoms.positions.copy()
        for k in range(len(atoms)):
            for a in range(3):
                def energy_at(t, k=k, a=a):
                    moved = atoms.copy()
                    p = pos0.copy()
                    p[k, a] += t
                    moved.positions = p
                    return _energy_of(model, moved)
                fd[k, a] = -five_point(energy_at, 0.0, 1e-3)
        c.check(f"{tag} {name}: forces vs 5-point FD (rel. to max |F| = {fscale:.3g})",
                np.max(np.abs(fd - f)) / fscale, 1e-7)
        c.check(f"{tag} {name}: sum of forces = 0", np.max(np.abs(np.sum(f, axis=0))) / fscale, 1e-12)
        if atoms.pbc.all():
            s = res["stress"]
            sscale = max(np.max(np.abs(s)), 1e-6)
            fds = np.zeros((3, 3))
            vol = atoms.get_volume()
            for a in range(3):
                for b in range(a, 3):
                    def energy_strained(t, a=a, b=b):
                        p, cl = strained(pos0, atoms.cell[:], t * strain_matrix(a, b))
                        return _energy_of(model, Atoms(numbers=atoms.numbers, positions=p, cell=cl, pbc=True))
                    fds[a, b] = fds[b, a] = five_point(energy_strained, 0.0, 1e-4) / vol
            c.check(f"{tag} {name}: stress vs 5-point FD of strain (rel. to max |sigma| = {sscale:.3g})",
                    np.max(np.abs(fds - s)) / sscale, 1e-7)
            c.check(f"{tag} {name}: stress symmetric", np.max(np.abs(s - s.T)), 1e-14)
            # ASE's own numerical stress: the sign convention of formats.md
            calc_atoms = atoms.copy()
            calc_atoms.calc = _ase_calculator(model)
            ase_s = calc_atoms.calc.calculate_numerical_stress(calc_atoms, d=1e-5, voigt=False)
            c.check(f"{tag} {name}: stress vs ASE calculate_numerical_stress (sign convention)",
                    np.max(np.abs(ase_s - s)) / sscale, 1e-6)
        else:
            c.truth(f"{tag} {name}: no stress when not periodic in 3D", "stress" not in res)

        # translation, rotation and permutation invariance
        moved = atoms.copy()
        moved.positions = moved.positions + np.array([0.31, -1.7, 2.9])
        r2 = evaluate(model, moved, stress=False)
        c.check(f"{tag} {name}: translation invariance (E)", abs(r2["energy"] - res["energy"]) /
                max(1.0, abs(res["energy"])), 1e-12)
        c.check(f"{tag} {name}: translation invariance (F)", np.max(np.abs(r2["forces"] - f)) / fscale, 1e-10)
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        if np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        rot = atoms.copy()
        rot.positions = atoms.positions @ q.T
        rot.cell = atoms.cell[:] @ q.T
        r3 = evaluate(model, rot)
        c.check(f"{tag} {name}: rotation invariance (E)", abs(r3["energy"] - res["energy"]) /
                max(1.0, abs(res["energy"])), 1e-12)
        c.check(f"{tag} {name}: rotation covariance (F' = R F)", np.max(np.abs(r3["forces"] - f @ q.T)) / fscale, 1e-10)
        if atoms.pbc.all():
            c.check(f"{tag} {name}: rotation covariance (sigma' = R sigma R^T)",
                    np.max(np.abs(r3["stress"] - q @ res["stress"] @ q.T)) / sscale, 1e-10)
        perm = rng.permutation(len(atoms))
        r4 = evaluate(model, atoms[perm], stress=False)
        c.check(f"{tag} {name}: permutation invariance (E_i, F)",
                max(np.max(np.abs(r4["energies"] - res["energies"][perm])),
                    np.max(np.abs(r4["forces"] - f[perm]) / fscale)), 1e-10)
        if atoms.pbc.all():
            big = atoms.repeat((2, 2, 2))
            e8 = _energy_of(model, big)
            c.check(f"{tag} {name}: 2x2x2 supercell has 8x the energy", abs(e8 - 8 * res["energy"]) /
                    max(1.0, abs(8 * res["energy"])), 1e-10)

    # dimer pulled through r_c: E and F go continuously to the isolated values
    rc = model["cutoff"]
    iso = evaluate(model, Atoms(numbers=[14, 8], positions=[[0, 0, 0], [0, 0, rc + 0.5]]))
    for delta, etol, ftol in ((1e-3, 1e-6, 1e-4), (1e-5, 1e-12, 1e-8)):
        near = evaluate(model, Atoms(numbers=[14, 8], positions=[[0, 0, 0], [0, 0, rc - delta]]))
        c.check(f"{tag} dimer at r_c - {delta:g}: E -> isolated", abs(near["energy"] - iso["energy"]), etol)
        c.check(f"{tag} dimer at r_c - {delta:g}: F -> 0", np.max(np.abs(near["forces"])), ftol)
    c.truth(f"{tag} isolated atoms: E_i depends only on species",
            iso["n_edges"] == 0 and np.allclose(iso["forces"], 0.0, atol=0.0))
    lone = evaluate(model, Atoms(numbers=[8, 14, 8], positions=[[0, 0, 0], [20, 0, 0], [0, 0, 20]]), forces=False)
    c.check(f"{tag} isolated atoms: same species, same E_i",
            max(abs(lone["energies"][0] - lone["energies"][2]), abs(lone["energies"][1] - iso["energies"][0])), 0.0)
    try:
        evaluate(model, Atoms("SiC", positions=[[0, 0, 0], [1.5, 0, 0]]))
        c.truth(f"{tag} unknown element is an error naming it", False)
    except ReferenceError as e:
        c.truth(f"{tag} unknown element is an error naming it", "element C " in str(e), str(e))


def _self_test_m3gnet_file(c, model):
    """formats.md / model.md §9 for m3gnet: version 2 stamped; inconsistent files rejected."""
    import h5py

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.h5")
        write_model(model, path)
        with h5py.File(path, "r") as f:
            c.truth("[m3gnet] written with version 2", int(f.attrs["version"]) == 2)
        for name, value, expect in (("version", np.int32(1), "not defined by model file version 1"),
                                    ("threebody_cutoff", np.float64(model["cutoff"] + 0.1), "threebody_cutoff"),
                                    ("threebody_lmax", np.int32(-1), "threebody_lmax"),
                                    ("n_threebody_basis", np.int32(1), "n_threebody_basis"),
                                    ("avg_threebody_neighbors", np.float64(0.0), "avg_threebody_neighbors"),
                                    ("n_edge_features", np.int32(model["n_edge_features"] + 1), "shape")):
            write_model(model, path)
            with h5py.File(path, "a") as f:
                f.attrs[name] = value
            try:
                read_model(path)
                c.truth(f"[m3gnet] file with {name} = {value} rejected", False)
            except ReferenceError as e:
                c.truth(f"[m3gnet] file with {name} = {value} rejected", expect in str(e), str(e))
        mg = random_model("megnet", seed=2)
        write_model(mg, path)
        with h5py.File(path, "a") as f:
            ok = int(f.attrs["version"]) == 1
            f.attrs["version"] = np.int32(2)
        c.truth("[megnet] written with version 1; a megnet file stamped version 2 is read",
                ok and read_model(path)["architecture"] == "megnet")


def _self_test_threebody_cutoff(c, model):
    """model.md §8: an atom pulled through r_3 from inside. E minus the energy of the same geometry
    with that atom's edges treated as not short scales as δ³ (u_3 has a triple zero at r_3), the
    force difference as δ²; beyond r_3 the two coincide."""
    from ase import Atoms

    r3 = model["threebody_cutoff"]
    direction = np.array([math.cos(math.radians(200.0)), math.sin(math.radians(200.0)), 0.0])
    base = [[0.0, 0.0, 0.0], [1.6, 0.0, 0.0], [0.0, 1.7, 0.3]]  # atoms 0, 1, 3: short edges among them

    def pair(delta):
        atoms = Atoms(numbers=[14, 8, 8, 14], positions=base[:2] + [list((r3 - delta) * direction)] + base[2:])
        full = evaluate(model, atoms, stress=False)
        cut = evaluate(model, atoms, stress=False, no_threebody_atoms=[2])
        return full, cut

    full, cut = pair(0.02)
    c.truth("[m3gnet] r_3 check geometry: atom 2 has two short edges, others keep triplets",
            full["n_triplets"] == cut["n_triplets"] + 2 * 2 and cut["n_triplets"] > 0,
            f"{full['n_triplets']} and {cut['n_triplets']} triplets")
    de, df = [], []
    for delta in (0.04, 0.02, 0.01, 0.005):
        full, cut = pair(delta)
        de.append(full["energy"] - cut["energy"])
        df.append(np.max(np.abs(full["forces"] - cut["forces"])))
    ratios_e = [de[k] / de[k + 1] for k in range(3)]
    ratios_f = [df[k] / df[k + 1] for k in range(3)]
    c.check(f"[m3gnet] E - E(no three-body for atom 2) ∝ δ³ (halving δ: ratios {', '.join(f'{x:.3f}' for x in ratios_e)})",
            abs(ratios_e[-1] - 8.0), 0.1)
    c.check(f"[m3gnet] F - F(no three-body for atom 2) ∝ δ² (halving δ: ratios {', '.join(f'{x:.3f}' for x in ratios_f)})",
            abs(ratios_f[-1] - 4.0), 0.1)
    c.truth("[m3gnet] the three-body difference is not zero", abs(de[0]) > 1e-9, f"{de[0]:.3e} eV at δ = 0.04")
    full, cut = pair(-1e-3)
    c.check("[m3gnet] atom 2 just beyond r_3: no three-body terms of its edges",
            abs(full["energy"] - cut["energy"]) + np.max(np.abs(full["forces"] - cut["forces"])), 0.0)


def self_test():
    """Runs all self-checks; returns the process exit status (0: all passed)."""
    c = _Checks()
    _self_test_functions(c)
    _self_test_graph(c)
    _self_test_model(c, "cgcnn", 3)
    _self_test_model(c, "megnet", 4)
    _self_test_model(c, "m3gnet", 5)
    _self_test_threebody_cutoff(c, random_model("m3gnet", seed=6))
    print(f"reference self-test: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Independent reference energies, forces and stress of mlpot model files (versions 1 and 2).")
    parser.add_argument("model", nargs="?", help="mlpot model file (HDF5)")
    parser.add_argument("structure", nargs="?", help="structure file readable by ase.io.read")
    parser.add_argument("--format", default=None, help="ase.io format of the structure (default: guess)")
    parser.add_argument("--index", type=int, default=0, help="frame of a multi-frame file (default 0)")
    parser.add_argument("--self-test", action="store_true", help="run the self-checks and exit")
    parser.add_argument("--write-random-model", nargs=2, metavar=("ARCH", "OUT"),
                        help="write a random model file of architecture ARCH to OUT and exit")
    parser.add_argument("--species", default="O,Si", help="species of --write-random-model (default O,Si)")
    parser.add_argument("--seed", type=int, default=1, help="seed of --write-random-model")
    args = parser.parse_args(argv)

    if args.self_test:
        return self_test()
    if args.write_random_model:
        from ase.data import atomic_numbers

        arch, out = args.write_random_model
        if arch not in ARCHITECTURES:
            parser.error(f"unknown architecture '{arch}'")
        species = [atomic_numbers[s.strip()] for s in args.species.split(",")]
        write_model(random_model(arch, species=species, seed=args.seed), out)
        return 0
    if not args.model or not args.structure:
        parser.error("expected MODEL and STRUCTURE (or --self-test)")

    import ase.io

    try:
        model = read_model(args.model)
        atoms = ase.io.read(args.structure, index=args.index, format=args.format)
        result = evaluate(model, atoms)
    except ReferenceError as e:
        print(f"mlpot_reference: {e}", file=sys.stderr)
        return 1
    print(result_json(result, len(atoms)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
