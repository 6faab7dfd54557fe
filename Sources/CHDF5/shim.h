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
static inline hid_t zoo_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t zoo_h5p_group_create(void) { return H5P_GROUP_CREATE; }
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

// Exported by libhdf5 since 1.8.7, though not declared in its public headers: the Jenkins
// lookup3 checksum HDF5 puts on its metadata.
uint32_t H5_checksum_metadata(const void *data, size_t len, uint32_t initval);

// H5Fget_file_image (HDF5 1.10.8) clears the "open for writing" flag in the image of a version
// 2 or 3 superblock but keeps the checksum computed with the flag set, so the image fails to
// open. Recomputes that checksum: signature, version, sizes, flags and four addresses, then
// the checksum. Returns 0, or -1 when `image` does not start with such a superblock.
static inline int zoo_h5_reseal_superblock(unsigned char *image, size_t size) {
  if (size < 12 || (image[8] != 2 && image[8] != 3)) return -1;
  size_t covered = 12 + 4 * (size_t)image[9];
  if (size < covered + 4) return -1;
  uint32_t checksum = H5_checksum_metadata(image, covered, 0);
  for (int i = 0; i < 4; i++) image[covered + i] = (unsigned char)(checksum >> (8 * i));
  return 0;
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
