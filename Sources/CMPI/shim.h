#ifndef ZOO_CMPI_SHIM_H
#define ZOO_CMPI_SHIM_H
#include <mpi.h>

// Open MPI's handles and constants are macros over the addresses of extern structs (and
// MPI_IN_PLACE a cast), which Swift cannot import. Each is re-exported here as a function.
static inline MPI_Comm zoo_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype zoo_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype zoo_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype zoo_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype zoo_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op zoo_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Errhandler zoo_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *zoo_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int zoo_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int zoo_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
