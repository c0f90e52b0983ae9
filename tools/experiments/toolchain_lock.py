"""toolchain.lock: the compiler, Bazel and library versions that results were made with. A sweep
checks the machine against it and prints what differs (a warning: results stay comparable only as
far as the versions agree)."""
import json
import subprocess

# Debian packages whose versions shape the figures: the compiler, Bazel, the C and C++ runtimes, the
# peer allocators and the plotting stack.
PACKAGES = ["g++-12", "gcc-12", "bazel-bootstrap", "libc6", "libstdc++6", "libjemalloc-dev",
            "libgoogle-perftools-dev", "libmimalloc-dev", "libtbb-dev", "nlohmann-json3-dev",
            "libbenchmark-dev", "libgtest-dev", "libabsl-dev", "python3", "python3-matplotlib"]


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                             check=False).stdout
    except OSError:
        return ""
    return out.splitlines()[0].strip() if out.strip() else ""


def probe():
    """This machine's versions, in the lock's shape ("" for what is not installed)."""
    packages = {}
    for p in PACKAGES:
        packages[p] = _first_line(["dpkg-query", "-W", "-f=${Version}\n", p])
    return {"compiler": _first_line(["g++", "--version"]), "packages": packages}


def write(path):
    doc = probe()
    doc["comment"] = ("Versions the committed results were made with; a sweep warns about each "
                      "difference. Rewrite with: tools/bazel run //tools:sweep -- --write-toolchain-lock")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")


def differences(path, machine=None):
    """Lines saying how `machine` (default: this one) differs from the lock at `path`."""
    try:
        with open(path) as f:
            lock = json.load(f)
    except OSError:
        return ["no toolchain.lock at %s: versions not checked" % path]
    except ValueError as e:
        return ["%s is not JSON (%s): versions not checked" % (path, e)]
    machine = machine if machine is not None else probe()
    out = []
    if lock.get("compiler", "") != machine.get("compiler", ""):
        out.append("compiler: lock has '%s', this machine '%s'" % (lock.get("compiler", ""), machine.get("compiler", "")))
    locked = lock.get("packages", {})
    here = machine.get("packages", {})
    for p in sorted(set(locked) | set(here)):
        a, b = locked.get(p, ""), here.get(p, "")
        if a != b:
            out.append("%s: lock has %s, this machine %s" % (p, a or "(not installed)", b or "(not installed)"))
    return out
