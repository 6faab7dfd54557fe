#ifndef ZOO_LIBFUZZER_H
#define ZOO_LIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

typedef int (*zoo_fuzz_test_one_input)(const uint8_t *data, size_t size);

#if defined(__ELF__)
// libFuzzer's driver, present when the program is linked with -sanitize=fuzzer. The reference
// is weak, so an ordinary build links too and finds it null.
int LLVMFuzzerRunDriver(int *argc, char ***argv, zoo_fuzz_test_one_input test_one_input)
    __attribute__((weak));

static inline int zoo_libfuzzer_is_linked(void) { return LLVMFuzzerRunDriver != NULL; }

static inline int zoo_libfuzzer_run(int *argc, char ***argv, zoo_fuzz_test_one_input test) {
  return LLVMFuzzerRunDriver(argc, argv, test);
}
#else
// Mach-O links no weak reference to a missing symbol without extra linker flags, and Apple's
// Swift toolchains ship no libFuzzer: there the driver only replays files.
static inline int zoo_libfuzzer_is_linked(void) { return 0; }

static inline int zoo_libfuzzer_run(int *argc, char ***argv, zoo_fuzz_test_one_input test) {
  (void)argc;
  (void)argv;
  (void)test;
  return 2;
}
#endif

#endif
