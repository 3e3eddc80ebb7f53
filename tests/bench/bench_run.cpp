// bench-run: runs one command and writes its whole-process figures to a file, so a benchmark
// harness can read them. A small launcher, because Linux keeps a process's peak RSS across
// execve: a child forked from a large harness (Python) would report the harness's own RSS.
// Usage: bench-run OUT_FILE COMMAND [ARG]...
// OUT_FILE gets one line: "wall_ns user_us sys_us max_rss_kib exit_code" (exit_code 128+N on signal N).

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench-run OUT_FILE COMMAND [ARG]...\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child < 0) {
    std::perror("bench-run: fork");
    return 2;
  }
  if (child == 0) {
    execvp(argv[2], argv + 2);
    std::perror("bench-run: exec");
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(child, &status, 0, &usage) < 0) {
    std::perror("bench-run: wait4");
    return 2;
  }
  const auto wall = std::chrono::steady_clock::now() - start;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::perror("bench-run: open OUT_FILE");
    return 2;
  }
  std::fprintf(out, "%lld %lld %lld %ld %d\n",
               static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count()),
               static_cast<long long>(usage.ru_utime.tv_sec) * 1'000'000 + usage.ru_utime.tv_usec,
               static_cast<long long>(usage.ru_stime.tv_sec) * 1'000'000 + usage.ru_stime.tv_usec,
               usage.ru_maxrss, code);
  std::fclose(out);
  return 0;
}
