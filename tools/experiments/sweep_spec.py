"""A sweep file (configs/sweeps/*.json) and the runs it asks for.

    {
      "name": "tuning",                        required: names the result file
      "description": "...",                    optional
      "workloads": ["rl_small", "x.json"],     required: configs/workloads/<name>.json, or a file
      "allocators": [                          required: a preset, a peer ("glibc", "jemalloc", ...), or
        "scalable", "glibc",                   a layout: a preset with a JSON override merged into it
        {"name": "seed_baseline_guard", "preset": "seed_baseline",
         "layout": {"resource": {"debug_pointer_guard": true}}}],
      "threads": [1, 2, 4],                    required
      "reps": 5,                               required: repetitions of every run
      "min_seconds": 0.5 | "ops": 100000,      optional: the driver's --min-seconds or --ops
      "knobs": [                               optional: values to vary, cross product
        {"name": "batch", "target": "layout", "path": "resource.batch_bytes",
         "values": [4096, 8192], "allocators": ["scalable"]},
        {"name": "live_cap", "target": "workload", "path": "live_cap", "values": [256, 4096]}]
    }

A layout knob sets `path` (dots between keys, numbers index lists) in the layouts of the allocators it
names (default: every preset or layout of the sweep; peers have none); a workload knob sets it in
every workload. Runs are ordered repetition, workload, workload knobs, threads, then allocator with
its layout knobs innermost, so that the allocators of one setting run back to back (interleaved).
"""
import copy
import hashlib
import itertools
import json
import os


class SweepError(Exception):
    """A bad sweep file: names the file, the field and the reason."""

    def __init__(self, path, field, reason):
        Exception.__init__(self, "%s: %s: %s" % (path, field, reason))


def canonical_hash(value):
    """A short hash of a JSON value that ignores key order and formatting."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def deep_merge(base, override):
    """`override` merged into `base`: objects merge key by key, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    out = copy.deepcopy(base)
    for k, v in override.items():
        out[k] = deep_merge(out[k], v) if k in out else copy.deepcopy(v)
    return out


def set_path(doc, path, value, where):
    """Sets the dotted `path` in `doc` (in place). Every step but the last must exist, so that a
    misspelt path is an error; the last key may be new (an optional field)."""
    steps = path.split(".")
    node = doc
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(node, list):
            if not step.isdigit() or int(step) >= len(node):
                raise KeyError("%s: '%s' is not an index of a list of %d" % (where, step, len(node)))
            if last:
                node[int(step)] = value
            else:
                node = node[int(step)]
        elif isinstance(node, dict):
            if last:
                node[step] = value
            elif step not in node:
                raise KeyError("%s: no field '%s' (has: %s)" % (where, step, ", ".join(sorted(node))))
            else:
                node = node[step]
        else:
            raise KeyError("%s: '%s' goes inside a value that is neither object nor list" % (where, step))


class Run(object):
    """One run: what the driver is asked for and where its row goes."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return "Run(%s)" % self.cell


def _require(doc, path, key, kind, what):
    if key not in doc:
        raise SweepError(path, key, "required field is missing")
    v = doc[key]
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise SweepError(path, key, "must be %s, got %s" % (what, json.dumps(v)))
    return v


class Sweep(object):
    """A parsed sweep file. `presets_dir` and `workloads_dir` hold configs/allocators and
    configs/workloads; `base_dir` is where relative workload paths start."""

    def __init__(self, path, presets_dir, workloads_dir, base_dir="."):
        self.path = path
        try:
            with open(path) as f:
                doc = json.load(f)
        except OSError as e:
            raise SweepError(path, "(file)", "cannot read: %s" % e.strerror)
        except ValueError as e:
            raise SweepError(path, "(file)", "not JSON: %s" % e)
        if not isinstance(doc, dict):
            raise SweepError(path, "(top)", "must be a JSON object")
        known = {"name", "description", "workloads", "allocators", "threads", "reps", "min_seconds", "ops", "knobs"}
        for k in doc:
            if k not in known:
                raise SweepError(path, k, "unknown field (known: %s)" % ", ".join(sorted(known)))
        self.doc = doc
        self.name = _require(doc, path, "name", str, "a string")
        if not self.name or "/" in self.name:
            raise SweepError(path, "name", "must be a non-empty file name")
        self.workloads = self._workloads(_require(doc, path, "workloads", list, "a list"), workloads_dir, base_dir)
        self.allocators = self._allocators(_require(doc, path, "allocators", list, "a list"), presets_dir)
        self.threads = _require(doc, path, "threads", list, "a list of thread counts")
        if not self.threads or any(not isinstance(t, int) or isinstance(t, bool) or not 1 <= t <= 256 for t in self.threads):
            raise SweepError(path, "threads", "must be a non-empty list of integers 1..256")
        self.reps = _require(doc, path, "reps", int, "an integer")
        if not 1 <= self.reps <= 1000:
            raise SweepError(path, "reps", "must be 1..1000, got %d" % self.reps)
        if "min_seconds" in doc and "ops" in doc:
            raise SweepError(path, "ops", "give min_seconds or ops, not both")
        self.timing = []
        if "min_seconds" in doc:
            s = doc["min_seconds"]
            if not isinstance(s, (int, float)) or isinstance(s, bool) or not 0 < s <= 3600:
                raise SweepError(path, "min_seconds", "must be a number in (0, 3600]")
            self.timing = ["--min-seconds=%s" % s]
        if "ops" in doc:
            o = doc["ops"]
            if not isinstance(o, int) or isinstance(o, bool) or o < 1:
                raise SweepError(path, "ops", "must be a positive integer")
            self.timing = ["--ops=%d" % o]
        self.knobs = self._knobs(doc.get("knobs", []))
        self.hash = canonical_hash({"sweep": doc,
                                    "layouts": {a["name"]: a["layout"] for a in self.allocators},
                                    "workloads": {w["name"]: w["config"] for w in self.workloads}})

    def _workloads(self, items, workloads_dir, base_dir):
        out = []
        for i, w in enumerate(items):
            field = "workloads[%d]" % i
            if not isinstance(w, str) or not w:
                raise SweepError(self.path, field, "must be a workload name or a .json file")
            f = os.path.join(base_dir, w) if w.endswith(".json") else os.path.join(workloads_dir, w + ".json")
            if not os.path.exists(f):
                raise SweepError(self.path, field, "no workload '%s' (looked for %s)" % (w, f))
            with open(f) as fh:
                config = json.load(fh)
            out.append({"name": config.get("name", os.path.basename(f)[:-5]), "file": f, "config": config})
        if not out:
            raise SweepError(self.path, "workloads", "must name at least one workload")
        return out

    def _allocators(self, items, presets_dir):
        out = []
        for i, a in enumerate(items):
            field = "allocators[%d]" % i
            if isinstance(a, str):
                preset = os.path.join(presets_dir, a + ".json")
                layout = None
                if os.path.exists(preset):
                    with open(preset) as fh:
                        layout = json.load(fh)
                out.append({"name": a, "preset": a if layout else None, "layout": layout, "override": None})
                continue
            if not isinstance(a, dict):
                raise SweepError(self.path, field, "must be a name or {name, preset, layout}")
            for k in a:
                if k not in ("name", "preset", "layout"):
                    raise SweepError(self.path, field + "." + k, "unknown field (known: name, preset, layout)")
            name = a.get("name")
            if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
                raise SweepError(self.path, field + ".name", "must be letters, digits, '_' or '-'")
            preset = a.get("preset")
            f = os.path.join(presets_dir, str(preset) + ".json")
            if not isinstance(preset, str) or not os.path.exists(f):
                raise SweepError(self.path, field + ".preset", "no preset '%s' in %s" % (preset, presets_dir))
            override = a.get("layout", {})
            if not isinstance(override, dict):
                raise SweepError(self.path, field + ".layout", "must be a JSON object merged into the preset")
            with open(f) as fh:
                layout = deep_merge(json.load(fh), override)
            out.append({"name": name, "preset": preset, "layout": layout, "override": override})
        names = [a["name"] for a in out]
        for n in names:
            if names.count(n) > 1:
                raise SweepError(self.path, "allocators", "'%s' is named twice" % n)
        if not out:
            raise SweepError(self.path, "allocators", "must name at least one allocator")
        return out

    def _knobs(self, items):
        if not isinstance(items, list):
            raise SweepError(self.path, "knobs", "must be a list")
        out = []
        for i, k in enumerate(items):
            field = "knobs[%d]" % i
            if not isinstance(k, dict):
                raise SweepError(self.path, field, "must be an object {name, target, path, values}")
            for key in k:
                if key not in ("name", "target", "path", "values", "allocators"):
                    raise SweepError(self.path, field + "." + key, "unknown field (known: name, target, path, values, allocators)")
            if k.get("target") not in ("layout", "workload"):
                raise SweepError(self.path, field + ".target", "must be \"layout\" or \"workload\"")
            if not isinstance(k.get("path"), str) or not k["path"]:
                raise SweepError(self.path, field + ".path", "must be a dotted path such as resource.batch_bytes")
            if not isinstance(k.get("values"), list) or not k["values"]:
                raise SweepError(self.path, field + ".values", "must be a non-empty list")
            name = k.get("name", k["path"].split(".")[-1])
            applies = k.get("allocators")
            layouts = [a["name"] for a in self.allocators if a["layout"] is not None]
            if k["target"] == "workload":
                if applies is not None:
                    raise SweepError(self.path, field + ".allocators", "only layout knobs name allocators")
            elif applies is None:
                applies = layouts
            else:
                for a in applies:
                    if a not in layouts:
                        raise SweepError(self.path, field + ".allocators",
                                         "'%s' is not a preset or layout of this sweep (those: %s)" % (a, ", ".join(layouts)))
            # Every value must land somewhere real: checked now, not an hour into the sweep.
            targets = ([(a["name"], a["layout"]) for a in self.allocators if a["name"] in applies]
                       if k["target"] == "layout" else [(w["name"], w["config"]) for w in self.workloads])
            for tname, doc in targets:
                try:
                    set_path(copy.deepcopy(doc), k["path"], k["values"][0], "%s of %s" % (k["path"], tname))
                except KeyError as e:
                    raise SweepError(self.path, field + ".path", e.args[0])
            out.append({"name": name, "target": k["target"], "path": k["path"], "values": k["values"],
                        "allocators": applies})
        return out

    def runs(self):
        """Every run of the sweep, in order."""
        wknobs = [k for k in self.knobs if k["target"] == "workload"]
        out = []
        group = -1
        for rep in range(1, self.reps + 1):
            for w in self.workloads:
                for wvalues in itertools.product(*[k["values"] for k in wknobs]):
                    wconfig = copy.deepcopy(w["config"])
                    wlabel = []
                    for k, v in zip(wknobs, wvalues):
                        set_path(wconfig, k["path"], v, k["name"])
                        wlabel.append("%s=%s" % (k["name"], json.dumps(v)))
                    for t in self.threads:
                        group += 1  # one repetition, workload, workload knob setting and thread count
                        for a in self.allocators:
                            lknobs = [k for k in self.knobs if k["target"] == "layout" and a["name"] in k["allocators"]]
                            for lvalues in itertools.product(*[k["values"] for k in lknobs]):
                                layout = copy.deepcopy(a["layout"])
                                label = list(wlabel)
                                for k, v in zip(lknobs, lvalues):
                                    set_path(layout, k["path"], v, k["name"])
                                    label.append("%s=%s" % (k["name"], json.dumps(v)))
                                knobs = ",".join(label)
                                cell = "|".join([w["name"], a["name"], knobs, "t%d" % t, "r%d" % rep])
                                config = {"allocator": a["name"], "layout": layout, "workload": wconfig,
                                          "threads": t, "timing": self.timing}
                                out.append(Run(cell=cell, rep=rep, workload=w["name"], workload_config=wconfig,
                                               workload_knobs=",".join(wlabel), threads=t,
                                               allocator=a["name"], preset=a["preset"], layout=layout,
                                               modified=a["override"] is not None or bool(lknobs),
                                               knobs=knobs, group=group, config_hash=canonical_hash(config)))
        return out


def parse_shard(text):
    """'i/n' (0 <= i < n) as (i, n)."""
    try:
        i, n = [int(x) for x in text.split("/")]
    except ValueError:
        raise ValueError("--shard must be i/n, e.g. 0/4, got '%s'" % text)
    if not (n >= 1 and 0 <= i < n):
        raise ValueError("--shard=%s: need n >= 1 and 0 <= i < n" % text)
    return i, n


def shard_runs(runs, i, n):
    """Shard i of n: whole groups (one repetition, workload, knob setting and thread count, every
    allocator), dealt round robin, so that the allocators compared in a group share a machine."""
    return [r for r in runs if r.group % n == i]
