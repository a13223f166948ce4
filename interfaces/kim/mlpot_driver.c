/* mlpot_driver.c — the KIM portable-model driver of mlpot: a portable model is one mlpot model
 * file (its parameter file), and a simulator's particles (its own atoms as contributing, the
 * ghost atoms around them as not) are evaluated as an open structure by libmlpot's
 * mlpot_calculator_compute_subset, using only the public header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "KIM_ModelDriverHeaders.h"
#include "mlpot/mlpot.h"

/* Everything a model needs between calls; KIM hands it back to every routine (no globals). */
typedef struct {
    mlpot_model *model;
    double cutoff;             /* r_c (Å) */
    double influence_distance; /* n_layers * r_c: where an atom's energy stops depending */
    /* 0: a message-passing model needs ghost atoms' neighbours too (L layers reach L * r_c) */
    int will_not_request_ghost_neighbors;
} driver_model;

/* One per compute-arguments object: the calculator and the particles of the latest call,
 * reused while the particles stay the same (an MD step between two neighbour-list builds). */
typedef struct {
    mlpot_calculator *calculator;
    mlpot_structure *structure;
    int n_particles;
    int *species_codes; /* [n_particles] the atomic numbers in `structure` */
    double *virials;    /* [virial_capacity][9] per-particle virials W_k (formats.md sign) */
    size_t virial_capacity;
} driver_workspace;

KIM_ModelDriverCreateFunction mlpot_kim_driver_create;

static void log_create_error(KIM_ModelDriverCreate *mdc, const char *what, int line) {
    char message[1024];
    snprintf(message, sizeof message, "mlpot driver: %s", what);
    KIM_ModelDriverCreate_LogEntry(mdc, KIM_LOG_VERBOSITY_error, message, line, __FILE__);
}

static void log_compute_error(const KIM_ModelComputeArguments *mca, const char *what, int line) {
    char message[1024];
    snprintf(message, sizeof message, "mlpot driver: %s", what);
    KIM_ModelComputeArguments_LogEntry(mca, KIM_LOG_VERBOSITY_error, message, line, __FILE__);
}

/* ----- the particles of one call, the results ------------------------------------------------ */

static mlpot_status workspace_set_particles(driver_workspace *ws, int n, const int *codes,
                                            const double *coordinates) {
    if (ws->structure && n == ws->n_particles &&
        !memcmp(codes, ws->species_codes, (size_t)n * sizeof *codes))
        return mlpot_structure_set_positions(ws->structure, coordinates);
    /* new particles (LAMMPS rebuilt its ghost shell): a new structure, the same calculator */
    mlpot_structure_free(ws->structure);
    ws->structure = NULL;
    ws->n_particles = 0;
    int *kept = realloc(ws->species_codes, (n ? (size_t)n : 1) * sizeof *kept);
    if (!kept)
        return MLPOT_ERR_MEMORY;
    ws->species_codes = kept;
    memcpy(ws->species_codes, codes, (size_t)n * sizeof *codes);
    mlpot_status st = mlpot_structure_create(&ws->structure, n, codes, coordinates, NULL, NULL);
    if (st == MLPOT_OK)
        ws->n_particles = n;
    return st;
}

static mlpot_status workspace_reserve_virials(driver_workspace *ws, int n) {
    if ((size_t)n <= ws->virial_capacity && ws->virials)
        return MLPOT_OK;
    double *grown = realloc(ws->virials, (n ? (size_t)n : 1) * 9 * sizeof *grown);
    if (!grown)
        return MLPOT_ERR_MEMORY;
    ws->virials = grown;
    ws->virial_capacity = n ? (size_t)n : 1;
    return MLPOT_OK;
}

/* KIM's virial is -W (it is +V sigma for a periodic system) in the order xx yy zz yz xz xy. */
static void kim_virial_from_w(double kim[6], const double w[9]) {
    kim[0] = -w[0];
    kim[1] = -w[4];
    kim[2] = -w[8];
    kim[3] = -w[5];
    kim[4] = -w[2];
    kim[5] = -w[1];
}

static int compute(const KIM_ModelCompute *mc, const KIM_ModelComputeArguments *mca) {
    driver_model *dm = NULL;
    driver_workspace *ws = NULL;
    KIM_ModelCompute_GetModelBufferPointer(mc, (void **)&dm);
    KIM_ModelComputeArguments_GetModelBufferPointer(mca, (void **)&ws);
    int *n_particles = NULL, *codes = NULL, *contributing = NULL;
    double *coordinates = NULL, *energy = NULL, *forces = NULL, *particle_energy = NULL,
           *virial = NULL, *particle_virial = NULL;
    const struct {
        KIM_ComputeArgumentName name;
        int **pointer;
    } integers[] = {{KIM_COMPUTE_ARGUMENT_NAME_numberOfParticles, &n_particles},
                    {KIM_COMPUTE_ARGUMENT_NAME_particleSpeciesCodes, &codes},
                    {KIM_COMPUTE_ARGUMENT_NAME_particleContributing, &contributing}};
    const struct {
        KIM_ComputeArgumentName name;
        double **pointer;
    } doubles[] = {{KIM_COMPUTE_ARGUMENT_NAME_coordinates, &coordinates},
                   {KIM_COMPUTE_ARGUMENT_NAME_partialEnergy, &energy},
                   {KIM_COMPUTE_ARGUMENT_NAME_partialForces, &forces},
                   {KIM_COMPUTE_ARGUMENT_NAME_partialParticleEnergy, &particle_energy},
                   {KIM_COMPUTE_ARGUMENT_NAME_partialVirial, &virial},
                   {KIM_COMPUTE_ARGUMENT_NAME_partialParticleVirial, &particle_virial}};
    int failed = 0;
    for (size_t k = 0; k < sizeof integers / sizeof integers[0]; k++)
        failed |= KIM_ModelComputeArguments_GetArgumentPointerInteger(mca, integers[k].name,
                                                                      integers[k].pointer);
    for (size_t k = 0; k < sizeof doubles / sizeof doubles[0]; k++)
        failed |= KIM_ModelComputeArguments_GetArgumentPointerDouble(mca, doubles[k].name,
                                                                     doubles[k].pointer);
    if (failed) {
        log_compute_error(mca, "could not get the compute arguments", __LINE__);
        return 1;
    }
    int n = *n_particles;
    /* KIM's neighbour list is not used: libmlpot builds its own graph of all particles (ghosts
     * included, as an open structure), which is the graph KIM's list describes. */
    mlpot_status st = workspace_set_particles(ws, n, codes, coordinates);
    int want_virials = virial || particle_virial;
    if (st == MLPOT_OK && want_virials)
        st = workspace_reserve_virials(ws, n);
    mlpot_results results = {.energies = particle_energy, .forces = forces};
    if (st == MLPOT_OK)
        st = mlpot_calculator_compute_subset(ws->calculator, ws->structure, contributing,
                                             &results, want_virials ? ws->virials : NULL);
    if (st != MLPOT_OK) {
        log_compute_error(mca, st == MLPOT_ERR_MEMORY ? "out of memory" : mlpot_last_error(),
                          __LINE__);
        return 1;
    }
    if (energy)
        *energy = results.energy;
    if (particle_virial)
        for (int k = 0; k < n; k++)
            kim_virial_from_w(particle_virial + 6 * (size_t)k, ws->virials + 9 * (size_t)k);
    if (virial) {
        double sum[9] = {0};
        for (int k = 0; k < n; k++)
            for (int x = 0; x < 9; x++)
                sum[x] += ws->virials[9 * (size_t)k + x];
        kim_virial_from_w(virial, sum);
    }
    return 0;
}

/* ----- compute arguments: what the driver supports, its workspace ----------------------------- */

static int compute_arguments_create(const KIM_ModelCompute *mc,
                                    KIM_ModelComputeArgumentsCreate *mcac) {
    const KIM_ComputeArgumentName optional[] = {
        KIM_COMPUTE_ARGUMENT_NAME_partialEnergy, KIM_COMPUTE_ARGUMENT_NAME_partialForces,
        KIM_COMPUTE_ARGUMENT_NAME_partialParticleEnergy, KIM_COMPUTE_ARGUMENT_NAME_partialVirial,
        KIM_COMPUTE_ARGUMENT_NAME_partialParticleVirial};
    for (size_t k = 0; k < sizeof optional / sizeof optional[0]; k++)
        if (KIM_ModelComputeArgumentsCreate_SetArgumentSupportStatus(
                mcac, optional[k], KIM_SUPPORT_STATUS_optional))
            return 1;
    driver_model *dm = NULL;
    KIM_ModelCompute_GetModelBufferPointer(mc, (void **)&dm);
    driver_workspace *ws = calloc(1, sizeof *ws);
    if (!ws || mlpot_calculator_create(&ws->calculator, dm->model) != MLPOT_OK) {
        KIM_ModelComputeArgumentsCreate_LogEntry(mcac, KIM_LOG_VERBOSITY_error,
                                                 "mlpot driver: out of memory", __LINE__,
                                                 __FILE__);
        free(ws);
        return 1;
    }
    KIM_ModelComputeArgumentsCreate_SetModelBufferPointer(mcac, ws);
    return 0;
}

static int compute_arguments_destroy(const KIM_ModelCompute *mc,
                                     KIM_ModelComputeArgumentsDestroy *mcad) {
    (void)mc;
    driver_workspace *ws = NULL;
    KIM_ModelComputeArgumentsDestroy_GetModelBufferPointer(mcad, (void **)&ws);
    if (ws) {
        mlpot_calculator_free(ws->calculator);
        mlpot_structure_free(ws->structure);
        free(ws->species_codes);
        free(ws->virials);
        free(ws);
    }
    return 0;
}

/* ----- the model: create and destroy ---------------------------------------------------------
 * There is no Refresh routine: KIM refuses one from a model that publishes no parameters, and an
 * mlpot model publishes none (its weights are fitted together, not tuned from an input script). */

static void driver_model_free(driver_model *dm) {
    if (dm) {
        mlpot_model_free(dm->model);
        free(dm);
    }
}

static int destroy(KIM_ModelDestroy *md) {
    driver_model *dm = NULL;
    KIM_ModelDestroy_GetModelBufferPointer(md, (void **)&dm);
    driver_model_free(dm);
    return 0;
}

/* The model file is read completely here: KIM deletes its temporary copy right after. */
static int load_model(KIM_ModelDriverCreate *mdc, driver_model *dm) {
    int n_files = 0;
    KIM_ModelDriverCreate_GetNumberOfParameterFiles(mdc, &n_files);
    if (n_files != 1) {
        char what[128];
        snprintf(what, sizeof what, "a portable model has one parameter file (an mlpot model "
                 "file), this one has %d", n_files);
        log_create_error(mdc, what, __LINE__);
        return 1;
    }
    const char *directory = NULL, *basename = NULL;
    KIM_ModelDriverCreate_GetParameterFileDirectoryName(mdc, &directory);
    if (KIM_ModelDriverCreate_GetParameterFileBasename(mdc, 0, &basename)) {
        log_create_error(mdc, "no parameter file name", __LINE__);
        return 1;
    }
    size_t size = strlen(directory) + strlen(basename) + 2;
    char *path = malloc(size);
    if (!path) {
        log_create_error(mdc, "out of memory", __LINE__);
        return 1;
    }
    snprintf(path, size, "%s/%s", directory, basename);
    mlpot_status st = mlpot_model_load(&dm->model, path);
    free(path);
    if (st != MLPOT_OK) {
        log_create_error(mdc, mlpot_last_error(), __LINE__);
        return 1;
    }
    return 0;
}

/* Species codes are the atomic numbers: KIM lists its species names as electron, H, He, ...,
 * so name number Z is element Z (checked once on silicon). */
static int set_species(KIM_ModelDriverCreate *mdc, const mlpot_model *m) {
    KIM_SpeciesName name;
    if (KIM_SPECIES_NAME_GetSpeciesName(14, &name) ||
        !KIM_SpeciesName_Equal(name, KIM_SPECIES_NAME_Si)) {
        log_create_error(mdc, "KIM's species names are not in atomic-number order", __LINE__);
        return 1;
    }
    const int *species = mlpot_model_species(m);
    for (int k = 0; k < mlpot_model_n_species(m); k++)
        if (KIM_SPECIES_NAME_GetSpeciesName(species[k], &name) ||
            KIM_ModelDriverCreate_SetSpeciesCode(mdc, name, species[k])) {
            log_create_error(mdc, "a species of the model has no KIM species name", __LINE__);
            return 1;
        }
    return 0;
}

static int set_routines(KIM_ModelDriverCreate *mdc) {
    const struct {
        KIM_ModelRoutineName name;
        KIM_Function *routine;
    } routines[] = {
        {KIM_MODEL_ROUTINE_NAME_ComputeArgumentsCreate, (KIM_Function *)compute_arguments_create},
        {KIM_MODEL_ROUTINE_NAME_Compute, (KIM_Function *)compute},
        {KIM_MODEL_ROUTINE_NAME_ComputeArgumentsDestroy, (KIM_Function *)compute_arguments_destroy},
        {KIM_MODEL_ROUTINE_NAME_Destroy, (KIM_Function *)destroy},
    };
    for (size_t k = 0; k < sizeof routines / sizeof routines[0]; k++)
        if (KIM_ModelDriverCreate_SetRoutinePointer(mdc, routines[k].name, KIM_LANGUAGE_NAME_c, 1,
                                                    routines[k].routine))
            return 1;
    return 0;
}

int mlpot_kim_driver_create(KIM_ModelDriverCreate *const mdc,
                            const KIM_LengthUnit requested_length_unit,
                            const KIM_EnergyUnit requested_energy_unit,
                            const KIM_ChargeUnit requested_charge_unit,
                            const KIM_TemperatureUnit requested_temperature_unit,
                            const KIM_TimeUnit requested_time_unit) {
    /* mlpot models are in eV and Å; the simulator converts (LAMMPS: units metal, or
     * unit_conversion_mode) */
    (void)requested_length_unit;
    (void)requested_energy_unit;
    (void)requested_charge_unit;
    (void)requested_temperature_unit;
    (void)requested_time_unit;
    if (KIM_ModelDriverCreate_SetUnits(mdc, KIM_LENGTH_UNIT_A, KIM_ENERGY_UNIT_eV,
                                       KIM_CHARGE_UNIT_unused, KIM_TEMPERATURE_UNIT_unused,
                                       KIM_TIME_UNIT_unused) ||
        KIM_ModelDriverCreate_SetModelNumbering(mdc, KIM_NUMBERING_zeroBased)) {
        log_create_error(mdc, "could not set units and numbering", __LINE__);
        return 1;
    }
    driver_model *dm = calloc(1, sizeof *dm);
    if (!dm) {
        log_create_error(mdc, "out of memory", __LINE__);
        return 1;
    }
    if (load_model(mdc, dm) || set_species(mdc, dm->model)) {
        driver_model_free(dm);
        return 1;
    }
    dm->cutoff = mlpot_model_cutoff(dm->model);
    dm->influence_distance = mlpot_model_n_layers(dm->model) * dm->cutoff;
    dm->will_not_request_ghost_neighbors = 0;
    KIM_ModelDriverCreate_SetInfluenceDistancePointer(mdc, &dm->influence_distance);
    KIM_ModelDriverCreate_SetNeighborListPointers(mdc, 1, &dm->cutoff,
                                                  &dm->will_not_request_ghost_neighbors);
    if (set_routines(mdc)) {
        log_create_error(mdc, "could not register the driver's routines", __LINE__);
        driver_model_free(dm);
        return 1;
    }
    KIM_ModelDriverCreate_SetModelBufferPointer(mdc, dm);
    return 0;
}
