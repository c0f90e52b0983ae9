"""The sweep against a fake driver (testing/fake_driver.py, no benchmark runs): resume after an
interruption, refusal of a changed sweep file, sharding and merging, and the shipped sweep files."""
import glob
import json
import os
import shutil
import tempfile
import unittest

import merge
import result_rows
import sweep
import sweep_spec
from paths import runfiles_root

ROOT = runfiles_root()
TINY = os.path.join(ROOT, "testdata", "sweeps", "tiny_sweep.json")
FAKE = os.path.join(ROOT, "tools", "experiments", "testing", "fake_driver.sh")
RUNNER = "--runner=/bin/sh " + FAKE


def spec(path):
    return sweep_spec.Sweep(path, os.path.join(ROOT, "configs", "allocators"), os.path.join(ROOT, "configs", "workloads"))


class SweepTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.log = os.path.join(self.dir, "calls.log")
        self.out = os.path.join(self.dir, "tiny.csv")
        os.environ["FAKE_LOG"] = self.log
        os.environ.pop("FAKE_FAIL_AT", None)
        os.environ.pop("FAKE_COMMIT", None)
        self.lock = "--toolchain-lock=" + os.path.join(self.dir, "no.lock")
        self.all_cells = [r.cell for r in spec(TINY).runs()]

    def tearDown(self):
        shutil.rmtree(self.dir)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def run_sweep(self, *extra, sweep_file=TINY):
        return sweep.main([sweep_file, "--out=" + self.out, RUNNER, self.lock] + list(extra))

    def test_the_cross_product_interleaves_allocators(self):
        # 2 reps x 2 live_cap values x 2 thread counts x 3 allocators.
        self.assertEqual(len(self.all_cells), 24)
        self.assertEqual(len(set(self.all_cells)), 24)
        self.assertEqual([c.split("|")[1] for c in self.all_cells[:6]],
                         ["glibc", "seed_baseline", "seed_baseline_guard"] * 2)
        self.assertTrue(all(c.endswith("|r1") for c in self.all_cells[:12]))

    def test_interrupted_sweep_resumes_where_it_stopped(self):
        os.environ["FAKE_FAIL_AT"] = "8"
        with self.assertRaisesRegex(RuntimeError, "failed"):
            self.run_sweep()
        self.assertEqual(len(result_rows.read_rows(self.out)), 7)
        with open(self.out, "a") as f:
            f.write("tiny,abc,rl_small|gl")  # and a row cut short, as a kill in the middle of a write leaves it
        del os.environ["FAKE_FAIL_AT"]
        self.assertEqual(self.run_sweep(), 0)
        rows = result_rows.read_rows(self.out)
        self.assertEqual(sorted(r["cell"] for r in rows), sorted(self.all_cells))
        self.assertEqual(len(self.calls()), 8 + 17)  # the 7 done were not run again
        self.assertEqual(self.run_sweep(), 0)        # complete: nothing more runs
        self.assertEqual(len(self.calls()), 25)
        self.assertEqual({r["commit"] for r in rows}, {"c0ffee"})
        self.assertEqual({r["machine"] for r in rows}, {sweep.machine_name()})

    def test_knobs_and_layout_overrides_reach_the_driver(self):
        self.assertEqual(self.run_sweep(), 0)
        guard = [c for c in self.calls() if "--allocators=layout:seed_baseline_guard" in c]
        self.assertEqual(len(guard), 8)
        self.assertTrue(all('"debug_pointer_guard": true' in c for c in guard))
        plain = [c for c in self.calls() if "--allocators=seed_baseline " in c]
        self.assertEqual(len(plain), 8)
        self.assertTrue(all("--layout" not in c for c in plain))
        self.assertEqual(sum('"live_cap": 256' in c for c in self.calls()), 12)
        self.assertTrue(all("--ops=1000" in c and "--reps=1" in c for c in self.calls()))
        rows = result_rows.read_rows(self.out)
        self.assertEqual({r["knobs"] for r in rows}, {"live_cap=256", "live_cap=4096"})

    def test_a_changed_sweep_file_is_refused_unless_restarted(self):
        self.assertEqual(self.run_sweep(), 0)
        changed = os.path.join(self.dir, "tiny_sweep.json")
        with open(TINY) as f:
            doc = json.load(f)
        doc["threads"] = [1, 4]
        with open(changed, "w") as f:
            json.dump(doc, f)
        with self.assertRaisesRegex(sweep.SweepRefused, "another version of .*--restart"):
            self.run_sweep(sweep_file=changed)
        self.assertEqual(len(result_rows.read_rows(self.out)), 24)  # left as it was
        self.assertEqual(self.run_sweep("--restart", sweep_file=changed), 0)
        self.assertEqual({r["threads"] for r in result_rows.read_rows(self.out)}, {1, 4})
        self.assertEqual(len(result_rows.read_rows(self.out + ".old")), 24)

    def test_shards_split_the_runs_and_merge_joins_them(self):
        shards = []
        for i in range(3):
            self.out = os.path.join(self.dir, "tiny.%d.csv" % i)
            self.assertEqual(self.run_sweep("--shard=%d/3" % i), 0)
            shards.append(self.out)
        cells = [[r["cell"] for r in result_rows.read_rows(s)] for s in shards]
        self.assertEqual(sorted(sum(cells, [])), sorted(self.all_cells))  # a partition: each run once
        for c in cells:  # the 3 allocators of one setting (cell without its allocator) share a shard
            settings = {tuple(x.split("|")[:1] + x.split("|")[2:]) for x in c}
            self.assertEqual(len(c), 3 * len(settings))
        merged = os.path.join(self.dir, "merged.csv")
        self.assertEqual(merge.main(["--out=" + merged] + shards), 0)
        self.assertEqual(sorted(r["cell"] for r in result_rows.read_rows(merged)), sorted(self.all_cells))
        # The same runs again (a shard rerun) are kept once.
        self.assertEqual(merge.main(["--out=" + merged, shards[0], shards[0]]), 0)
        self.assertEqual(len(result_rows.read_rows(merged)), len(cells[0]))

    def test_merge_refuses_rows_of_other_code_unless_allowed(self):
        self.out = os.path.join(self.dir, "a.csv")
        self.assertEqual(self.run_sweep("--shard=0/2"), 0)
        os.environ["FAKE_COMMIT"] = "deadbeef"
        self.out = os.path.join(self.dir, "b.csv")
        self.assertEqual(self.run_sweep("--shard=1/2"), 0)
        merged = os.path.join(self.dir, "merged.csv")
        a, b = os.path.join(self.dir, "a.csv"), os.path.join(self.dir, "b.csv")
        with self.assertRaisesRegex(merge.MergeRefused, r"code versions \(commit\) differ: c0ffee in .*a\.csv; deadbeef in .*b\.csv"):
            merge.main(["--out=" + merged, a, b])
        self.assertFalse(os.path.exists(merged))
        self.assertEqual(merge.main(["--out=" + merged, "--allow-mixed", a, b]), 0)
        rows = result_rows.read_rows(merged)
        self.assertEqual(len(rows), 24)
        self.assertEqual({r["commit"] for r in rows}, {"c0ffee", "deadbeef"})  # each row keeps its own

    def test_merge_refuses_the_same_run_with_another_config(self):
        self.assertEqual(self.run_sweep(), 0)
        rows = result_rows.read_rows(self.out)
        rows[0]["config_hash"] = "0000"
        other = os.path.join(self.dir, "other.csv")
        result_rows.write_rows(other, rows[:1])
        with self.assertRaisesRegex(merge.MergeRefused, "has config"):
            merge.merge_rows([(self.out, result_rows.read_rows(self.out)), (other, result_rows.read_rows(other))])

    def test_bad_sweep_files_name_the_field(self):
        cases = [({"colour": 1}, "colour: unknown field"),
                 ({"reps": 0}, "reps: must be 1..1000"),
                 ({"workloads": ["rl_tiny"]}, r"workloads\[0\]: no workload 'rl_tiny'"),
                 ({"allocators": [{"name": "x", "preset": "nope"}]}, r"allocators\[0\].preset: no preset 'nope'"),
                 ({"knobs": [{"target": "layout", "path": "resource.nosuch.batch", "values": [1]}]},
                  r"knobs\[0\].path: .*no field 'nosuch'"),
                 ({"knobs": [{"target": "workload", "path": "live_cap", "values": []}]}, r"knobs\[0\].values")]
        for change, message in cases:
            with open(TINY) as f:
                doc = json.load(f)
            doc.update(change)
            bad = os.path.join(self.dir, "bad.json")
            with open(bad, "w") as f:
                json.dump(doc, f)
            with self.assertRaisesRegex(sweep_spec.SweepError, "bad.json: " + message):
                spec(bad)

    def test_shipped_sweep_files(self):
        files = sorted(glob.glob(os.path.join(ROOT, "configs", "sweeps", "*.json")))
        self.assertEqual([os.path.basename(f) for f in files], ["peers.json", "seed_report.json", "tuning.json"])
        for f in files:
            self.assertGreater(len(spec(f).runs()), 0, f)
        seed = spec(os.path.join(ROOT, "configs", "sweeps", "seed_report.json"))
        self.assertEqual([w["name"] for w in seed.workloads], ["rl_small", "rl_medium", "fragmentation_mix", "alignment64"])
        self.assertEqual(seed.threads, [1, 2, 4, 8, 16])
        guards = [a for a in seed.allocators if a["name"].endswith("_guard")]
        self.assertEqual([a["layout"]["resource"]["debug_pointer_guard"] for a in guards], [True, True])

    def test_progress_line(self):
        self.assertEqual(sweep.format_seconds(59), "59s")
        self.assertEqual(sweep.format_seconds(61), "1m01s")
        self.assertEqual(sweep.format_seconds(3725), "1h02m")


if __name__ == "__main__":
    unittest.main()
