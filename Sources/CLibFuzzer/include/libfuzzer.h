#ifndef ZOO_LIBFUZZER_H
#define ZOO_LIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver, present when the program is linked with -sanitize=fuzzer. The reference
// is weak, so an ordinary build links too and finds it null.
int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*test_one_input)(const uint8_t *data, size_t size))
    __attribute__((weak));

static inline int zoo_libfuzzer_is_linked(void) { return LLVMFuzzerRunDriver != NULL; }

#endif
