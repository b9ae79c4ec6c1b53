// alloc_counter: an LD_PRELOAD library that counts heap allocations of the process it is
// loaded into, for tests that prove "no heap allocation per request in steady state".
//
//   malloc / calloc / realloc / reallocarray / memalign / aligned_alloc / posix_memalign / valloc
//     --count (relaxed atomic)--> glibc's own allocator (__libc_malloc, ...)
//   SIGUSR2 --handler--> "<count>\n" written to $SY_ALLOC_COUNT_FILE.tmp, renamed over
//                        $SY_ALLOC_COUNT_FILE (a reader never sees a half-written number)
//
// Every call that may return new memory counts as one allocation, including a realloc that
// grows in place: each is a call into the allocator that the hot path should not make.
// operator new reaches malloc through the PLT, so C++ allocations are counted too.
// Allocations that glibc makes internally (fopen, getaddrinfo, ...) call its private alias
// and are not counted; the data path makes none.
//
// The wrappers forward to the __libc_* entry points rather than to dlsym(RTLD_NEXT, ...):
// dlsym itself allocates, which would recurse into the wrapper before it is initialised.
//
// Thread: any; the counter is a relaxed atomic, the handler uses async-signal-safe calls only.
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
}

namespace {

std::atomic<uint64_t> g_allocations{0};

// Paths are copied here by the constructor: the handler must not call getenv.
constexpr size_t kPathMax = 4096;
char g_path[kPathMax];
char g_tmp_path[kPathMax];

void countOne() { g_allocations.fetch_add(1, std::memory_order_relaxed); }

// Formats `value` in decimal followed by '\n' into `out`; returns the length.
size_t formatCount(uint64_t value, char* out) {
  char digits[24];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  out[n] = '\n';
  return n + 1;
}

void writeCount(int) {
  const int saved_errno = errno;
  char text[32];
  const size_t length = formatCount(g_allocations.load(std::memory_order_relaxed), text);
  const int fd = ::open(g_tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    const bool complete = ::write(fd, text, length) == static_cast<ssize_t>(length);
    ::close(fd);
    if (complete) ::rename(g_tmp_path, g_path);
  }
  errno = saved_errno;
}

bool copyPath(const char* from, const char* suffix, char* to) {
  const size_t from_length = strlen(from);
  const size_t suffix_length = strlen(suffix);
  if (from_length + suffix_length + 1 > kPathMax) return false;
  memcpy(to, from, from_length);
  memcpy(to + from_length, suffix, suffix_length + 1);
  return true;
}

// Installed before main(), so the counted program's own start-up is visible in the count.
__attribute__((constructor)) void installHandler() {
  const char* path = getenv("SY_ALLOC_COUNT_FILE");
  if (path == nullptr || path[0] == '\0') return;  // counting only, nothing to report to
  if (!copyPath(path, "", g_path) || !copyPath(path, ".tmp", g_tmp_path)) return;
  struct sigaction action {};
  action.sa_handler = writeCount;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR2, &action, nullptr);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(size_t size) noexcept {
  countOne();
  return __libc_malloc(size);
}

__attribute__((visibility("default"))) void* calloc(size_t count, size_t size) noexcept {
  countOne();
  return __libc_calloc(count, size);
}

__attribute__((visibility("default"))) void* realloc(void* ptr, size_t size) noexcept {
  countOne();
  return __libc_realloc(ptr, size);
}

__attribute__((visibility("default"))) void* reallocarray(void* ptr, size_t count,
                                                          size_t size) noexcept {
  size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  countOne();
  return __libc_realloc(ptr, bytes);
}

__attribute__((visibility("default"))) void* memalign(size_t alignment, size_t size) noexcept {
  countOne();
  return __libc_memalign(alignment, size);
}

__attribute__((visibility("default"))) void* aligned_alloc(size_t alignment, size_t size) noexcept {
  countOne();
  return __libc_memalign(alignment, size);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, size_t alignment,
                                                          size_t size) noexcept {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  countOne();
  void* memory = __libc_memalign(alignment, size);
  if (memory == nullptr) return ENOMEM;
  *out = memory;
  return 0;
}

__attribute__((visibility("default"))) void* valloc(size_t size) noexcept {
  countOne();
  return __libc_valloc(size);
}

}  // extern "C"
