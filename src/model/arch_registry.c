/* arch_registry.c — the one list of architectures (arch.h), and lookups into it and into an
 * architecture's table of hyper-parameters. */
#include <stdio.h>
#include <string.h>

#include "model/arch.h"
#include "model/model.h"

extern const model_arch_ops cgcnn_arch;
extern const model_arch_ops megnet_arch;
extern const model_arch_ops m3gnet_arch;

static const model_arch_ops *const registry[] = {&cgcnn_arch, &megnet_arch, &m3gnet_arch};

int arch_count(void) {
    return (int)(sizeof registry / sizeof registry[0]);
}

const model_arch_ops *arch_at(int index) {
    return index >= 0 && index < arch_count() ? registry[index] : NULL;
}

const model_arch_ops *arch_default(void) {
    return registry[0];
}

const model_arch_ops *arch_find(const char *name) {
    for (int k = 0; name && k < arch_count(); k++)
        if (!strcmp(registry[k]->name, name))
            return registry[k];
    return NULL;
}

int arch_max_file_version(void) {
    int version = 1;
    for (int k = 0; k < arch_count(); k++)
        if (registry[k]->file_version > version)
            version = registry[k]->file_version;
    return version;
}

void arch_list_names(char *buf, size_t size, const char *separator) {
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < arch_count() && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? separator : "",
                                 registry[k]->name);
}

int arch_hparam_index(const model_arch_ops *arch, const char *attribute) {
    for (int k = 0; arch && k < arch->n_hparams; k++)
        if (!strcmp(arch->hparams[k].attribute, attribute))
            return k;
    return -1;
}
