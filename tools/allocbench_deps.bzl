"""allocbench_dependencies(): the repositories a workspace needs to build @allocbench offline.

In a workspace that uses AllocatorBench:

    local_repository(name = "allocbench", path = "/path/to/allocbench")
    load("@allocbench//tools:allocbench_deps.bzl", "allocbench_dependencies")
    allocbench_dependencies()

Bazel 4 asks for rules_cc, rules_java and remote_coverage_tools by name, and its defaults download
them. This project carries small forwarding copies (tools/local_repos/, see the project WORKSPACE);
a dependent workspace cannot name them with local_repository, whose relative paths start at the
workspace that calls it, so a repository rule finds them next to this file instead. A repository the
caller has already defined is left alone.
"""

def _tree_copy_impl(rctx):
    # This file's directory is tools/; the repositories live in tools/local_repos/<name>.
    tools_dir = rctx.path(Label("//tools:allocbench_deps.bzl")).dirname
    source = tools_dir.get_child("local_repos").get_child(rctx.attr.source)
    if not source.exists:
        fail("allocbench_dependencies: %s is missing" % source)
    for entry in source.readdir():
        rctx.symlink(entry, entry.basename)

_tree_copy = repository_rule(
    implementation = _tree_copy_impl,
    attrs = {"source": attr.string(mandatory = True)},
    local = True,
)

def allocbench_dependencies():
    for name in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        if not native.existing_rule(name):
            _tree_copy(name = name, source = name)
