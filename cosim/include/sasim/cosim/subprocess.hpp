// Child processes: the toolchain that builds a variant on demand
// (variant_cache.cpp) and the points of a sweep (app/sweep). A child is
// killed (SIGKILL) when the process that started it dies, so a killed sweep
// or build leaves no orphan behind it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace sasim::cosim {

// Starts argv (argv[0] searched in PATH) with stdout and stderr appended to
// `log` (inherited when empty) and stdin from /dev/null. Throws
// std::runtime_error when the process cannot be created.
pid_t spawn_process(const std::vector<std::string>& argv, const std::filesystem::path& log = {});

// The exit code of a waitpid() status, or 128 + the signal that killed it.
int exit_code(int wait_status);

// Waits for `pid`: its exit_code().
int wait_process(pid_t pid);

// Runs argv to its end (spawn_process + wait_process).
int run_process(const std::vector<std::string>& argv, const std::filesystem::path& log = {});

}  // namespace sasim::cosim
