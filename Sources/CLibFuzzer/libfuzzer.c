// The target's code is its header; SwiftPM needs one source file to build a C target.
#include "libfuzzer.h"
