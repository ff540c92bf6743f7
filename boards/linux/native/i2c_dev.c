/*
 * sensorkit i2c-dev addon: the three calls Node.js cannot make by itself on /dev/i2c-N
 * (Linux Documentation/i2c/dev-interface.rst). Plain C on N-API (node_api.h), no C++.
 *
 *   open(path)                                   -> fd
 *   transfer(fd, address, writeBytes, readLength) -> Buffer   one I2C_RDWR: write, repeated start, read
 *   transferAsync(same)                          -> Promise<Buffer>   the same on the libuv thread pool
 *   close(fd)                                    -> undefined
 *
 * A failed system call throws an Error whose `code` is the errno name ("ENOTTY", "ENXIO", ...),
 * with `errno` (number) and `syscall`. Bad arguments throw TypeError/RangeError before any ioctl.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* drivers/i2c/i2c-dev.c refuses I2C_RDWR messages longer than 8192 bytes with EINVAL. */
#define MAX_MESSAGE_LENGTH 8192
/* 7-bit addresses outside 0x03..0x77 are reserved (I2C-bus specification UM10204 §3.1.12). */
#define MIN_ADDRESS 0x03
#define MAX_ADDRESS 0x77

#define CALL(env, call)                                                                    \
  do {                                                                                     \
    if ((call) != napi_ok) {                                                               \
      const napi_extended_error_info *info = NULL;                                         \
      napi_get_last_error_info((env), &info);                                              \
      bool pending = false;                                                                \
      napi_is_exception_pending((env), &pending);                                          \
      if (!pending)                                                                        \
        napi_throw_error((env), "ERR_NAPI",                                                \
                         info && info->error_message ? info->error_message : "N-API call failed"); \
      return NULL;                                                                         \
    }                                                                                      \
  } while (0)

static const char *errno_name(int code) {
  switch (code) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case EPROTO: return "EPROTO";
    case EBADMSG: return "EBADMSG";
    case EOVERFLOW: return "EOVERFLOW";
    case EMSGSIZE: return "EMSGSIZE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EREMOTEIO: return "EREMOTEIO";
    case ESHUTDOWN: return "ESHUTDOWN";
    case EILSEQ: return "EILSEQ";
    default: return NULL;
  }
}

/* Error(message) with code = errno name, errno = number, syscall; NULL if it cannot be made. */
static napi_value errno_error(napi_env env, int code, const char *syscall, const char *subject) {
  char name[32];
  const char *known = errno_name(code);
  if (known != NULL) snprintf(name, sizeof name, "%s", known);
  else snprintf(name, sizeof name, "ERRNO_%d", code);
  char message[512];
  snprintf(message, sizeof message, "%s: %s %s: %s", name, syscall, subject, strerror(code));
  napi_value text, error, value;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, text, &error) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &value) == napi_ok) napi_set_named_property(env, error, "code", value);
  if (napi_create_int32(env, code, &value) == napi_ok) napi_set_named_property(env, error, "errno", value);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value) == napi_ok) napi_set_named_property(env, error, "syscall", value);
  return error;
}

static void throw_errno(napi_env env, int code, const char *syscall, const char *subject) {
  napi_value error = errno_error(env, code, syscall, subject);
  if (error != NULL) napi_throw(env, error);
  else napi_throw_error(env, "ERR_NAPI", strerror(code));
}

/* An integer argument in [min, max]; throws TypeError/RangeError (Node's codes) and returns false. */
static bool integer_arg(napi_env env, napi_value value, const char *name, int64_t min, int64_t max, int64_t *out) {
  napi_valuetype type;
  char message[160];
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    snprintf(message, sizeof message, "%s: expected an integer", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return false;
  }
  double number;
  napi_get_value_double(env, value, &number);
  if (!(number >= (double)min && number <= (double)max) || number != (double)(int64_t)number) {
    snprintf(message, sizeof message, "%s: expected an integer from %lld to %lld", name, (long long)min, (long long)max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
    return false;
  }
  *out = (int64_t)number;
  return true;
}

/* open(path) -> fd. O_CLOEXEC so a spawned child does not inherit the bus. */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype type = napi_undefined;
  if (argc >= 1) CALL(env, napi_typeof(env, argv[0], &type));
  if (type != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "path: expected a string");
    return NULL;
  }
  char path[4096];
  size_t length = 0;
  CALL(env, napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length));
  if (length == 0 || length >= sizeof path - 1 || strlen(path) != length) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "path: expected a non-empty path without NUL bytes, under 4095 bytes");
    return NULL;
  }
  int fd;
  do fd = open(path, O_RDWR | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    throw_errno(env, errno, "open", path);
    return NULL;
  }
  napi_value result;
  CALL(env, napi_create_int32(env, fd, &result));
  return result;
}

/* close(fd). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd;
  if (!integer_arg(env, argc >= 1 ? argv[0] : NULL, "fd", 0, INT32_MAX, &fd)) return NULL;
  /* Linux releases the descriptor even when close() fails with EINTR: never retry it. */
  if (close((int)fd) != 0 && errno != EINTR) {
    char subject[32];
    snprintf(subject, sizeof subject, "fd %d", (int)fd);
    throw_errno(env, errno, "close", subject);
    return NULL;
  }
  return NULL;
}

/*
 * The bytes to write: a Uint8Array/Buffer (bytes by construction) or an array of integers 0..255
 * (each checked, so 256 never wraps to 0). Copies into `out` (MAX_MESSAGE_LENGTH bytes).
 */
static bool write_bytes_arg(napi_env env, napi_value value, uint8_t *out, uint32_t *count) {
  napi_valuetype type;
  if (value == NULL || napi_typeof(env, value, &type) != napi_ok || type == napi_undefined || type == napi_null) {
    *count = 0;
    return true;
  }
  char message[160];
  bool is_typed = false, is_array = false;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed) {
    napi_typedarray_type kind;
    size_t length;
    void *data;
    napi_get_typedarray_info(env, value, &kind, &length, &data, NULL, NULL);
    if (kind != napi_uint8_array && kind != napi_uint8_clamped_array) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "writeBytes: expected a Uint8Array, a Buffer or an array of bytes");
      return false;
    }
    if (length > MAX_MESSAGE_LENGTH) {
      snprintf(message, sizeof message, "writeBytes: expected at most %d bytes, got %zu", MAX_MESSAGE_LENGTH, length);
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
      return false;
    }
    if (length > 0) memcpy(out, data, length);
    *count = (uint32_t)length;
    return true;
  }
  napi_is_array(env, value, &is_array);
  if (!is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "writeBytes: expected a Uint8Array, a Buffer or an array of bytes");
    return false;
  }
  uint32_t length;
  napi_get_array_length(env, value, &length);
  if (length > MAX_MESSAGE_LENGTH) {
    snprintf(message, sizeof message, "writeBytes: expected at most %d bytes, got %u", MAX_MESSAGE_LENGTH, length);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
    return false;
  }
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    int64_t byte;
    char name[40];
    if (napi_get_element(env, value, i, &element) != napi_ok) return false;
    snprintf(name, sizeof name, "writeBytes[%u]", i);
    if (!integer_arg(env, element, name, 0, 255, &byte)) return false;
    out[i] = (uint8_t)byte;
  }
  *count = length;
  return true;
}

/* One checked transfer: the arguments copied out of JS, so it can also run off the main thread. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
  uint16_t address;
  uint32_t write_length;
  uint32_t read_length;
  int error; /* errno of a failed ioctl, 0 when it succeeded */
  uint8_t write[MAX_MESSAGE_LENGTH];
  uint8_t read[MAX_MESSAGE_LENGTH];
} transfer_job;

/* Checks (fd, address, writeBytes, readLength) before any ioctl; NULL with a pending exception. */
static transfer_job *transfer_job_from_args(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {NULL, NULL, NULL, NULL};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "ERR_NAPI", "could not read the arguments");
    return NULL;
  }
  int64_t fd, address, read_length;
  if (!integer_arg(env, argv[0], "fd", 0, INT32_MAX, &fd)) return NULL;
  if (!integer_arg(env, argv[1], "address", MIN_ADDRESS, MAX_ADDRESS, &address)) return NULL;
  transfer_job *job = malloc(sizeof *job);
  if (job == NULL) {
    throw_errno(env, ENOMEM, "malloc", "transfer");
    return NULL;
  }
  if (!write_bytes_arg(env, argc >= 3 ? argv[2] : NULL, job->write, &job->write_length) ||
      !integer_arg(env, argv[3], "readLength", 0, MAX_MESSAGE_LENGTH, &read_length)) {
    free(job);
    return NULL;
  }
  if (job->write_length == 0 && read_length == 0) {
    free(job);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "nothing to transfer: writeBytes is empty and readLength is 0");
    return NULL;
  }
  job->fd = (int)fd;
  job->address = (uint16_t)address;
  job->read_length = (uint32_t)read_length;
  return job;
}

/*
 * One ioctl(I2C_RDWR): the kernel holds the adapter for both messages, so the read follows the
 * write with a repeated start and no other transfer comes between (UM10204 §3.1.10).
 */
static void run_transfer(transfer_job *job) {
  struct i2c_msg messages[2];
  unsigned count = 0;
  if (job->write_length > 0) {
    messages[count] = (struct i2c_msg){.addr = job->address, .flags = 0, .len = (uint16_t)job->write_length, .buf = job->write};
    count++;
  }
  if (job->read_length > 0) {
    messages[count] = (struct i2c_msg){.addr = job->address, .flags = I2C_M_RD, .len = (uint16_t)job->read_length, .buf = job->read};
    count++;
  }
  struct i2c_rdwr_ioctl_data data = {.msgs = messages, .nmsgs = count};
  int status;
  do status = ioctl(job->fd, I2C_RDWR, &data);
  while (status < 0 && errno == EINTR);
  job->error = status < 0 ? errno : 0;
}

static napi_value transfer_error(napi_env env, const transfer_job *job) {
  char subject[48];
  snprintf(subject, sizeof subject, "I2C_RDWR 0x%02x", (unsigned)job->address);
  return errno_error(env, job->error, "ioctl", subject);
}

/* transfer(fd, address, writeBytes, readLength) -> Buffer of readLength bytes (blocks the thread). */
static napi_value js_transfer(napi_env env, napi_callback_info info) {
  transfer_job *job = transfer_job_from_args(env, info);
  if (job == NULL) return NULL;
  run_transfer(job);
  napi_value result = NULL;
  if (job->error != 0) {
    napi_value error = transfer_error(env, job);
    if (error != NULL) napi_throw(env, error);
    else napi_throw_error(env, "ERR_NAPI", strerror(job->error));
  } else if (napi_create_buffer_copy(env, job->read_length, job->read, NULL, &result) != napi_ok) {
    napi_throw_error(env, "ERR_NAPI", "could not allocate the read buffer");
    result = NULL;
  }
  free(job);
  return result;
}

static void transfer_execute(napi_env env, void *data) { run_transfer((transfer_job *)data); }

static void transfer_complete(napi_env env, napi_status status, void *data) {
  transfer_job *job = data;
  napi_value value = NULL;
  if (status != napi_ok) {
    napi_value text;
    napi_create_string_utf8(env, "the transfer was cancelled", NAPI_AUTO_LENGTH, &text);
    napi_create_error(env, NULL, text, &value);
    napi_reject_deferred(env, job->deferred, value);
  } else if (job->error != 0) {
    value = transfer_error(env, job);
    napi_reject_deferred(env, job->deferred, value);
  } else if (napi_create_buffer_copy(env, job->read_length, job->read, NULL, &value) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, value);
  } else {
    napi_value text;
    napi_create_string_utf8(env, "could not allocate the read buffer", NAPI_AUTO_LENGTH, &text);
    napi_create_error(env, NULL, text, &value);
    napi_reject_deferred(env, job->deferred, value);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

/*
 * transferAsync(fd, address, writeBytes, readLength) -> Promise<Buffer>: the same transfer on the
 * libuv thread pool, so a slow bus (a 32-byte read takes ~3 ms at 100 kHz) does not stall the
 * event loop. Arguments are checked synchronously (a bad one throws, no promise).
 */
static napi_value js_transfer_async(napi_env env, napi_callback_info info) {
  transfer_job *job = transfer_job_from_args(env, info);
  if (job == NULL) return NULL;
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "sensorkit:i2c-transfer", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, transfer_execute, transfer_complete, job, &job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, "ERR_NAPI", "could not start the transfer");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    free(job);
    napi_throw_error(env, "ERR_NAPI", "could not queue the transfer");
    return NULL;
  }
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transfer", NULL, js_transfer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transferAsync", NULL, js_transfer_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CALL(env, napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
