#ifndef ZOO_CHDF5_SHIM_H
#define ZOO_CHDF5_SHIM_H
#include <hdf5.h>
#include <stdio.h>

// HDF5's type and flag macros expand to comma expressions (they initialise the library
// first), which Swift cannot import. Each is re-exported here as a function.
static inline hid_t zoo_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t zoo_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t zoo_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t zoo_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t zoo_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t zoo_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t zoo_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline unsigned zoo_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned zoo_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned zoo_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned zoo_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline size_t zoo_h5t_variable(void) { return H5T_VARIABLE; }
static inline hsize_t zoo_h5s_unlimited(void) { return H5S_UNLIMITED; }

// Used by ZooIO: default property lists and selections, the little-endian file types Keras and
// h5py write, and the property list classes for links and datasets.
static inline hid_t zoo_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t zoo_h5e_default(void) { return H5E_DEFAULT; }
static inline hid_t zoo_h5s_all(void) { return H5S_ALL; }
static inline hid_t zoo_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t zoo_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t zoo_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t zoo_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t zoo_h5t_std_i64le(void) { return H5T_STD_I64LE; }

// Frees the strings HDF5 allocated while reading variable-length data (H5Dvlen_reclaim was
// renamed H5Treclaim in 1.12).
static inline herr_t zoo_h5_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
  return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
  return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

typedef struct {
  char *buffer;
  size_t size;
} zoo_h5e_message;

static inline herr_t zoo_h5e_keep_innermost(unsigned n, const H5E_error2_t *error, void *data) {
  (void)n;
  zoo_h5e_message *message = (zoo_h5e_message *)data;
  if (error->desc != NULL && error->desc[0] != 0) {
    snprintf(message->buffer, message->size, "%s", error->desc);
  }
  return 0;
}

// Copies the innermost (most specific) description on this thread's error stack into `buffer`
// ("truncated file: eof = ...", "file signature not found"), then clears the stack.
static inline void zoo_h5e_take_message(char *buffer, size_t size) {
  if (size == 0) return;
  buffer[0] = 0;
  zoo_h5e_message message = {buffer, size};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, zoo_h5e_keep_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
}
#endif
