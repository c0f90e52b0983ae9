"""Where things are when a tool runs under `bazel run` (runfiles, the user's directory, the source
tree) or straight from the source tree."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def source_tree():
    """The source tree: BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the tree this file is in."""
    ws = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    return ws if ws else os.path.dirname(os.path.dirname(HERE))


def runfiles_root():
    """The directory holding this repository's files: the runfiles tree under Bazel, else the
    source tree. Bazel 4's Python stub names the tree by RUNFILES_DIR, or only by
    RUNFILES_MANIFEST_FILE (<binary>.runfiles_manifest beside <binary>.runfiles); the main script's
    path lies inside it too."""
    candidates = [os.environ.get("RUNFILES_DIR"), os.environ.get("TEST_SRCDIR")]
    manifest = os.environ.get("RUNFILES_MANIFEST_FILE", "")
    if manifest.endswith(".runfiles_manifest"):
        candidates.append(manifest[: -len("_manifest")])
    elif manifest.endswith(os.path.join(".runfiles", "MANIFEST")):
        candidates.append(os.path.dirname(manifest))
    main = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if ".runfiles" + os.sep in main:
        candidates.append(main[: main.index(".runfiles" + os.sep) + len(".runfiles")])
    for d in candidates:
        if d and os.path.isdir(os.path.join(d, "allocbench")):
            return os.path.join(d, "allocbench")
    # tools/experiments/<file> -> the repository root (in the source tree).
    return os.path.dirname(os.path.dirname(HERE))


def user_path(p):
    """A path the user typed, relative to where they ran `bazel run`."""
    if os.path.isabs(p):
        return p
    return os.path.join(os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd()), p)
