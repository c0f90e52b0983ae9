#include "record/recorder.h"

#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "record/real_allocator.h"
#include "trace/chunk_encoder.h"
#include "trace/header_codec.h"
#include "trace/trace_clock.h"

namespace allocbench::record {

__thread thread_state tls __attribute__((tls_model("initial-exec")));
std::atomic<bool> active{false};

// 128 KiB of events per write: ~15,000 small events, one system call.
constexpr std::size_t kBufferBytes = 128 * 1024;
// One clock reading per this many events of a thread (trace_format.h, "How exact the times are"): a
// TSC read costs 20-34 ns here, more than the rest of recording an event; a power of two.
constexpr std::uint32_t kClockEvery = 16;

struct thread_buffer {
  // Set by its thread while it appends (record()); finish() waits for it to clear (see light_fence).
  std::atomic<bool> busy{false};
  // Taken by the two that write the buffer out at the end: its thread's exit and finish().
  std::atomic<bool> writing{false};
  std::uint32_t thread = 0;
  thread_buffer* next = nullptr;  // the registry
  trace::chunk_encoder encoder;
  thread_buffer(std::uint8_t* data) : encoder(data, kBufferBytes) {}
};

namespace {

// Everything below is static storage: the recorder never allocates from the heap it records.
pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;  // the list, thread numbering, the file
thread_buffer* registry = nullptr;
std::uint32_t next_thread = 0;
pthread_key_t exit_key;
bool children = true;
pid_t root_pid = 0;
char out_path[4096];
// Opened on the first write (so a child that only forks and execs leaves no file), under
// registry_lock; read by every flushing thread.
std::atomic<int> fd{-1};
std::atomic<std::uint64_t> events_written{0}, chunks_written{0};
trace::clock_mark start_mark;
std::uint64_t start_unix = 0;
std::atomic<bool> write_failed{false};

void say(const char* a, const char* b = "") noexcept {
  ssize_t ignored = write(2, a, strlen(a));
  ignored = write(2, b, strlen(b));
  ignored = write(2, "\n", 1);
  (void)ignored;
}

void* map(std::size_t bytes) noexcept {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

bool write_all(int f, const std::uint8_t* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = write(f, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= std::size_t(w);
  }
  return true;
}

// This process's file name: the configured one for the root, <stem>.<pid><ext> for any other.
void choose_path(const char* configured, pid_t pid) noexcept {
  const std::size_t n = strlen(configured);
  if (n + 24 >= sizeof out_path) {
    out_path[0] = '\0';
    return;
  }
  if (pid == root_pid) {
    memcpy(out_path, configured, n + 1);
    return;
  }
  // The extension starts at the last '.' after the last '/'.
  std::size_t dot = n;
  for (std::size_t i = n; i-- > 0;) {
    if (configured[i] == '/') break;
    if (configured[i] == '.') {
      dot = i;
      break;
    }
  }
  char digits[16];
  int d = 0;
  for (unsigned v = unsigned(pid); v != 0 || d == 0; v /= 10) digits[d++] = char('0' + v % 10);
  std::size_t o = 0;
  memcpy(out_path, configured, dot);
  o = dot;
  out_path[o++] = '.';
  while (d > 0) out_path[o++] = digits[--d];
  memcpy(out_path + o, configured + dot, n - dot + 1);
}

// Under registry_lock.
bool open_file() noexcept {
  if (fd >= 0) return true;
  if (write_failed || out_path[0] == '\0') return false;
  fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd.load() < 0) {
    say("allocbench record: cannot open ", out_path);
    write_failed = true;
    return false;
  }
  static std::uint8_t header[trace::kFixedHeaderBytes + trace::kMaxProgramBytes];
  static char program[trace::kMaxProgramBytes];
  std::size_t program_bytes = 0;
  const int cmd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (cmd >= 0) {
    ssize_t r;
    while (program_bytes < sizeof program &&
           (r = read(cmd, program + program_bytes, sizeof program - program_bytes)) > 0) {
      program_bytes += std::size_t(r);
    }
    close(cmd);
    while (program_bytes > 0 && program[program_bytes - 1] == '\0') --program_bytes;
    for (std::size_t i = 0; i < program_bytes; ++i) {
      if (program[i] == '\0') program[i] = ' ';
    }
  }
  trace::header_fields h;
  h.start_unix_ns = start_unix;
  h.start_ticks = start_mark.ticks;
  h.pid = std::uint32_t(getpid());
  h.ppid = std::uint32_t(getppid());
  h.program = program;
  h.program_bytes = program_bytes;
  const std::size_t n = trace::encode_header(header, h);
  if (!write_all(fd, header, n)) {
    say("allocbench record: cannot write ", out_path);
    write_failed = true;
    return false;
  }
  return true;
}

// The record path and finish() follow Dekker's pattern: a thread sets its buffer's `busy`, then reads
// `active`; finish() clears `active`, then reads each `busy`. Each side needs a full fence between
// its store and its load. The record path's is a compiler barrier only when membarrier works:
// finish()'s membarrier(PRIVATE_EXPEDITED) then makes every running thread execute a full fence, so
// a thread either shows its `busy` to finish() or sees `active` false. That spares the record path a
// locked instruction (an exchange cost ~3-5 ns per event here). Without membarrier both sides fence.
bool asymmetric = false;

bool register_membarrier() noexcept {
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}
inline void light_fence() noexcept {
  if (asymmetric) std::atomic_signal_fence(std::memory_order_seq_cst);
  else std::atomic_thread_fence(std::memory_order_seq_cst);
}
void heavy_fence() noexcept {
  if (!asymmetric || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (asymmetric) say("allocbench record: membarrier failed at exit");
  }
}

// Writes the buffer's chunk (the caller is its thread inside record(), or holds `writing` after
// the thread's last append). The write itself needs no lock: an
// O_APPEND write() of a regular file lands whole at the end.
void flush(thread_buffer* b) noexcept {
  if (b->encoder.empty()) return;
  if (fd < 0) {
    pthread_mutex_lock(&registry_lock);
    open_file();
    pthread_mutex_unlock(&registry_lock);
  }
  const std::uint32_t events = b->encoder.events();
  const std::size_t n = b->encoder.finish(b->thread);
  if (fd >= 0 && write_all(fd, b->encoder.data(), n)) {
    events_written.fetch_add(events, std::memory_order_relaxed);
    chunks_written.fetch_add(1, std::memory_order_relaxed);
  } else if (!write_failed) {
    write_failed = true;
    active.store(false, std::memory_order_relaxed);
    say("allocbench record: write failed, recording stopped: ", out_path);
  }
  b->encoder.reset();
}

void lock_writing(thread_buffer* b) noexcept {
  while (b->writing.exchange(true, std::memory_order_acquire)) {
    while (b->writing.load(std::memory_order_relaxed)) __builtin_ia32_pause();
  }
}
void unlock_writing(thread_buffer* b) noexcept { b->writing.store(false, std::memory_order_release); }

// Thread exit (pthread key destructor): write what is buffered and give the pages back. The buffer
// stays registered: anything this thread frees in later destructors lands in it and is written at
// process exit.
void on_thread_exit(void* p) noexcept {
  auto* b = static_cast<thread_buffer*>(p);
  ++tls.depth;
  lock_writing(b);
  // After finish() the end record is written: nothing may follow it (finish flushed this buffer).
  if (active.load(std::memory_order_relaxed)) flush(b);
  unlock_writing(b);
  madvise(reinterpret_cast<std::uint8_t*>(b) + 4096, kBufferBytes, MADV_DONTNEED);
  --tls.depth;
}

thread_buffer* attach() noexcept {
  // One mapping: the buffer's header on the first page, its events on the pages after it.
  auto* mem = static_cast<std::uint8_t*>(map(4096 + kBufferBytes));
  if (mem == nullptr) return nullptr;
  auto* b = new (mem) thread_buffer(mem + 4096);
  pthread_mutex_lock(&registry_lock);
  b->thread = next_thread++;
  b->next = registry;
  registry = b;
  pthread_mutex_unlock(&registry_lock);
  tls.buffer = b;
  pthread_setspecific(exit_key, b);  // may call calloc: we are inside depth > 0
  return b;
}

void before_fork() noexcept { pthread_mutex_lock(&registry_lock); }
void after_fork_parent() noexcept { pthread_mutex_unlock(&registry_lock); }
// The child has one thread: other threads' buffers hold the parent's events, which the parent writes.
void after_fork_child() noexcept {
  pthread_mutex_init(&registry_lock, nullptr);
  thread_buffer* mine = tls.buffer;
  for (thread_buffer* b = registry; b != nullptr;) {
    thread_buffer* next = b->next;
    if (b != mine) munmap(b, 4096 + kBufferBytes);
    b = next;
  }
  registry = nullptr;
  next_thread = 0;
  if (fd.load() >= 0) close(fd.load());  // our copy of the parent's descriptor: the parent keeps writing to it
  fd = -1;
  events_written = 0;
  chunks_written = 0;
  if (!children) {
    active.store(false, std::memory_order_relaxed);
    return;
  }
  asymmetric = register_membarrier();  // the child's memory is a new mm: register it anew
  start_mark = trace::clock_mark_now();
  start_unix = trace::unix_ns();
  const char* configured = getenv("ALLOCBENCH_RECORD_OUT");
  choose_path(configured != nullptr ? configured : "", getpid());
  if (mine != nullptr) {
    mine->busy.store(false, std::memory_order_relaxed);
    mine->writing.store(false, std::memory_order_relaxed);
    mine->encoder.reset();
    mine->thread = next_thread++;
    mine->next = nullptr;
    registry = mine;
  }
}

}  // namespace

void record(trace::event_kind kind, std::uint8_t flags, const void* address, const void* new_address,
            std::size_t size, std::uint8_t align_log2) noexcept {
  thread_buffer* b = tls.buffer;
  if (b == nullptr && (b = attach()) == nullptr) return;
  b->busy.store(true, std::memory_order_relaxed);
  light_fence();
  // Checked after `busy` is set: finish() clears `active`, fences, then waits for every `busy`, so
  // nothing is appended to a buffer after it was written for the last time.
  if (active.load(std::memory_order_relaxed)) {
    if (!b->encoder.has_room()) flush(b);
    // The clock on the first event of each chunk and every kClockEvery-th after it; the events
    // between take the last reading, which the encoder then writes no time for.
    const std::uint64_t ticks =
        b->encoder.events() % kClockEvery == 0 ? trace::ticks_now() : b->encoder.last_ticks();
    b->encoder.add(kind, flags, ticks, reinterpret_cast<std::uintptr_t>(address),
                   reinterpret_cast<std::uintptr_t>(new_address), size, align_log2);
  }
  b->busy.store(false, std::memory_order_release);
}

void start() noexcept {
  ++tls.depth;
  resolve_real();
  const char* configured = getenv("ALLOCBENCH_RECORD_OUT");
  if (configured != nullptr && configured[0] != '\0') {
    const char* root = getenv("ALLOCBENCH_RECORD_ROOT");
    root_pid = root != nullptr ? pid_t(atoi(root)) : getpid();
    if (root == nullptr) {
      // Preloaded by hand, without tools/record: this process is the root, and its children must
      // know it (else each would take the configured name for itself).
      char digits[16];
      snprintf(digits, sizeof digits, "%d", int(root_pid));
      setenv("ALLOCBENCH_RECORD_ROOT", digits, 1);
    }
    const char* ch = getenv("ALLOCBENCH_RECORD_CHILDREN");
    children = !(ch != nullptr && ch[0] == '0');
    if (getpid() == root_pid || children) {
      start_mark = trace::clock_mark_now();
      start_unix = trace::unix_ns();
      choose_path(configured, getpid());
      asymmetric = register_membarrier();
      pthread_key_create(&exit_key, on_thread_exit);
      pthread_atfork(before_fork, after_fork_parent, after_fork_child);
      active.store(true, std::memory_order_release);
    }
  }
  --tls.depth;
}

void finish() noexcept {
  if (!active.exchange(false, std::memory_order_acq_rel)) return;
  ++tls.depth;
  pthread_mutex_lock(&registry_lock);
  thread_buffer* list = registry;
  pthread_mutex_unlock(&registry_lock);
  heavy_fence();
  for (thread_buffer* b = list; b != nullptr; b = b->next) {
    while (b->busy.load(std::memory_order_acquire)) __builtin_ia32_pause();
    lock_writing(b);
    flush(b);
    unlock_writing(b);
  }
  pthread_mutex_lock(&registry_lock);
  if (open_file()) {
    std::uint8_t end[trace::kEndBytes];
    trace::encode_end(end, events_written.load(), chunks_written.load(), trace::ticks_now());
    std::uint8_t hz[8];
    trace::put_le(hz, trace::clock_hz_since(start_mark), 8);
    // The clock rate goes into the header (an O_APPEND descriptor cannot write there), the end
    // record last: a reader takes a file without it as cut short.
    const int patch = open(out_path, O_WRONLY | O_CLOEXEC);
    const bool ok = patch >= 0 && pwrite(patch, hz, 8, trace::kClockHzOffset) == 8 && write_all(fd, end, sizeof end);
    if (patch >= 0) close(patch);
    if (!ok) say("allocbench record: cannot finish ", out_path);
    close(fd.load());
    fd = -1;
  }
  pthread_mutex_unlock(&registry_lock);
  --tls.depth;
}

}  // namespace allocbench::record
