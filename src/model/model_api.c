/* model_api.c — the public getters of a model handle (mlpot.h, "Models"): architecture, cutoff,
 * layers, species, number of parameters and description. Loading and saving live in
 * io/model_file.c. */
#include <stddef.h>

#include "model/model.h"

const char *mlpot_model_architecture(const mlpot_model *m) {
    return m ? m->hp.arch->name : "";
}

double mlpot_model_cutoff(const mlpot_model *m) {
    return m ? m->hp.cutoff : 0.0;
}

int mlpot_model_n_layers(const mlpot_model *m) {
    return m ? m->hp.n_layers : 0;
}

int mlpot_model_n_species(const mlpot_model *m) {
    return m ? m->hp.n_species : 0;
}

const int *mlpot_model_species(const mlpot_model *m) {
    return m ? m->hp.species : NULL;
}

size_t mlpot_model_n_parameters(const mlpot_model *m) {
    return m ? m->n_params : 0;
}

const char *mlpot_model_description(const mlpot_model *m) {
    return m && m->description ? m->description : "";
}
