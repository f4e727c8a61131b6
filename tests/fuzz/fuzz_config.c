/* The tenant file loader: placeholders, YAML, mapping and validation, from arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/log.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    char err[512];
    config *cfg = NULL;

    if (!initialised) {
        log_init("fuzz_config", TG_LOG_ERROR); /* ignored-key warnings would flood stderr */
        initialised = 1;
    }
    if (config_load_text("fuzz.yaml", (const char *)data, size, "fuzz-master-key", &cfg, err,
                         sizeof(err)) == TG_OK)
        config_free(cfg);
    return 0;
}
