"""_library.py — finding and loading libmlpot through ctypes, the C prototypes of the functions
the package calls, and the one place where an mlpot_status becomes a Python exception.

Lookup order: $MLPOT_LIBRARY (a path, used alone when set), the build tree of a source checkout
(<repo>/build/libmlpot.so beside python/), then the system loader (ctypes.util.find_library,
then the soname libmlpot.so.0, as installed by `cmake --install`)."""

import ctypes
import ctypes.util
import os

# The major version of the C API this package was written against (mlpot.h MLPOT_VERSION_MAJOR).
API_MAJOR = 0


def _source_tree():
    """<repo> when the package runs from a source checkout (<repo>/python/mlpot/_library.py,
    recognised by <repo>/include/mlpot/mlpot.h), else None (an installed package)."""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    return root if os.path.exists(os.path.join(root, "include", "mlpot", "mlpot.h")) else None


SOURCE_TREE = _source_tree()


class MlpotError(RuntimeError):
    """A failed libmlpot call (the message is mlpot_last_error()), or a request the package
    cannot serve (then status is None)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class Results(ctypes.Structure):
    """mlpot_results: the caller owns every array; NULL arrays are not computed."""

    _fields_ = [
        ("energy", ctypes.c_double),
        ("energies", ctypes.POINTER(ctypes.c_double)),
        ("forces", ctypes.POINTER(ctypes.c_double)),
        ("stress", ctypes.POINTER(ctypes.c_double)),
        ("has_stress", ctypes.c_int),
    ]


class CommitteeDeviation(ctypes.Structure):
    """mlpot_committee_deviation: the spread of a committee; force_deviations is the caller's
    array (or NULL)."""

    _fields_ = [
        ("energy_std_per_atom", ctypes.c_double),
        ("force_deviation_max", ctypes.c_double),
        ("force_deviation_mean", ctypes.c_double),
        ("force_deviations", ctypes.POINTER(ctypes.c_double)),
    ]


class ReadOptions(ctypes.Structure):
    """mlpot_read_options: format and species as C strings, NULL for "from the file"."""

    _fields_ = [("format", ctypes.c_char_p), ("species", ctypes.c_char_p)]


_handle = ctypes.c_void_p
_out_handle = ctypes.POINTER(ctypes.c_void_p)
_doubles = ctypes.POINTER(ctypes.c_double)
_ints = ctypes.POINTER(ctypes.c_int)
_status = ctypes.c_int

# name: (restype, argtypes) of every function the package uses (see include/mlpot/mlpot.h).
_PROTOTYPES = {
    "mlpot_last_error": (ctypes.c_char_p, []),
    "mlpot_status_string": (ctypes.c_char_p, [_status]),
    "mlpot_version_string": (ctypes.c_char_p, []),
    "mlpot_structure_create": (_status,
                               [_out_handle, ctypes.c_int, _ints, _doubles, _doubles, _ints]),
    "mlpot_structure_free": (None, [_handle]),
    "mlpot_structure_n_atoms": (ctypes.c_int, [_handle]),
    "mlpot_structure_numbers": (_ints, [_handle]),
    "mlpot_structure_positions": (_doubles, [_handle]),
    "mlpot_structure_cell": (_doubles, [_handle]),
    "mlpot_structure_pbc": (_ints, [_handle]),
    "mlpot_structure_set_positions": (_status, [_handle, _doubles]),
    "mlpot_structure_set_cell": (_status, [_handle, _doubles, _ints]),
    "mlpot_reader_open": (_status, [_out_handle, ctypes.c_char_p, ctypes.POINTER(ReadOptions)]),
    "mlpot_reader_next": (_status, [_handle, _out_handle]),
    "mlpot_reader_close": (None, [_handle]),
    "mlpot_model_load": (_status, [_out_handle, ctypes.c_char_p]),
    "mlpot_model_free": (None, [_handle]),
    "mlpot_model_architecture": (ctypes.c_char_p, [_handle]),
    "mlpot_model_cutoff": (ctypes.c_double, [_handle]),
    "mlpot_model_n_layers": (ctypes.c_int, [_handle]),
    "mlpot_model_n_species": (ctypes.c_int, [_handle]),
    "mlpot_model_species": (_ints, [_handle]),
    "mlpot_model_n_parameters": (ctypes.c_size_t, [_handle]),
    "mlpot_model_description": (ctypes.c_char_p, [_handle]),
    "mlpot_calculator_create": (_status, [_out_handle, _handle]),
    "mlpot_calculator_free": (None, [_handle]),
    "mlpot_calculator_compute": (_status, [_handle, _handle, ctypes.POINTER(Results)]),
    "mlpot_committee_create": (_status, [_out_handle, ctypes.POINTER(_handle), ctypes.c_int]),
    "mlpot_committee_free": (None, [_handle]),
    "mlpot_committee_calculator": (_status, [_handle, ctypes.c_int, _out_handle]),
    "mlpot_committee_compute": (_status, [_handle, _handle, ctypes.POINTER(Results),
                                          ctypes.POINTER(CommitteeDeviation)]),
    "mlpot_model_has_ranges": (ctypes.c_int, [_handle]),
    "mlpot_calculator_extrapolation_message": (_status, [_handle, ctypes.c_char_p,
                                                         ctypes.c_size_t, _ints]),
}


def _candidates():
    """(description, name-or-path) pairs in lookup order."""
    explicit = os.environ.get("MLPOT_LIBRARY")
    if explicit:
        # an explicit choice is never second-guessed by falling back to another library
        return [("$MLPOT_LIBRARY", explicit)]
    found = []
    if SOURCE_TREE:
        found.append(("build tree", os.path.join(SOURCE_TREE, "build", "libmlpot.so")))
    system = ctypes.util.find_library("mlpot")
    if system:
        found.append(("ctypes.util.find_library", system))
    found.append(("system loader", "libmlpot.so.0"))
    return found


def _load():
    tried = []
    for where, name in _candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            tried.append(f"{where}: {name} ({e})")
            continue
        missing = [f for f in _PROTOTYPES if not hasattr(lib, f)]
        if missing:
            tried.append(f"{where}: {name} lacks {', '.join(missing)} (too old?)")
            continue
        return lib, name
    raise ImportError(
        "mlpot: cannot load libmlpot; tried "
        + "; ".join(tried)
        + ". Build it (cmake --build build) or set MLPOT_LIBRARY=/path/to/libmlpot.so"
        + ("" if os.environ.get("MLPOT_LIBRARY") else " (or run ldconfig after cmake --install)")
    )


lib, _loaded_name = _load()
for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _function = getattr(lib, _name)
    _function.restype = _restype
    _function.argtypes = _argtypes

version = lib.mlpot_version_string().decode()
if int(version.split(".")[0]) != API_MAJOR:
    raise ImportError(f"mlpot: {_loaded_name} is libmlpot {version}; this package needs "
                      f"{API_MAJOR}.x")


def library_path():
    """The file libmlpot was loaded from (resolved through /proc/self/maps when the system
    loader found it by name), or the name given to the loader when that fails."""
    if os.path.isabs(_loaded_name) or os.sep in _loaded_name:
        return os.path.realpath(_loaded_name)
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if os.path.basename(path).startswith("libmlpot.so"):
                    return path
    except OSError:
        pass
    return _loaded_name


def check(status):
    """Raises MlpotError with mlpot_last_error() for any status other than MLPOT_OK."""
    if status != 0:
        message = lib.mlpot_last_error().decode("utf-8", "replace")
        name = lib.mlpot_status_string(status).decode()
        raise MlpotError(message or name, status)


def doubles(array):
    """A C double* view of a C-contiguous float64 numpy array (the array must outlive the call)."""
    return array.ctypes.data_as(_doubles)


def ints(array):
    """A C int* view of a C-contiguous int32 numpy array."""
    return array.ctypes.data_as(_ints)
