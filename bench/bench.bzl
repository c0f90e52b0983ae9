"""Macros for //bench: one `bazel run` target per workload, and peer-linked tests."""

def bench_workload_targets(workloads, driver_deps, data):
    """A cc_binary per workload (plus "all") that runs the driver with --workload=<name>."""
    for w in workloads + ["all"]:
        native.cc_binary(
            name = w,
            deps = driver_deps,
            data = data,
            args = ["--workload=" + w],
        )

def peer_test(name, srcs, deps, data = []):
    """A test linked against a peer allocator: skipped (incompatible) under the sanitizer configs,
    where malloc binds to the sanitizer's runtime and the peer is bypassed or reports leaks."""
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps,
        data = data,
        size = "small",
        target_compatible_with = select({
            "//bench:sanitized_asan": ["//bench:peer_allocators_unusable"],
            "//bench:sanitized_asan_ubsan": ["//bench:peer_allocators_unusable"],
            "//bench:sanitized_tsan": ["//bench:peer_allocators_unusable"],
            "//bench:sanitized_ubsan": ["//bench:peer_allocators_unusable"],
            "//conditions:default": [],
        }),
    )
