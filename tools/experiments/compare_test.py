"""compare: per-setting medians, ratio and U test, the significance marks, the geometric mean and the
warning below 9 repetitions."""
import contextlib
import io
import os
import tempfile
import unittest

import compare
import result_rows


def rows(allocator, values, workload="rl_small", threads=1):
    out = []
    for i, v in enumerate(values):
        r = {c: "" for c in result_rows.COLUMNS}
        r.update({"sweep": "s", "sweep_hash": "h", "cell": "%s|%s||t%d|r%d" % (workload, allocator, threads, i + 1),
                  "workload": workload, "allocator": allocator, "family": "ours", "knobs": "", "threads": threads,
                  "rep": i + 1, "mops": float(v), "consistent": True})
        out.append(r)
    return out


class CompareTest(unittest.TestCase):
    def setUp(self):
        d = tempfile.mkdtemp()
        self.a, self.b = os.path.join(d, "a.csv"), os.path.join(d, "b.csv")
        # Setting 1 (threads 1): b is clearly faster, no overlap: exact p = 2 / C(20, 10).
        # Setting 2 (threads 2): the same values in a and b: nothing to see.
        result_rows.write_rows(self.a, rows("x", range(100, 110)) + rows("x", range(50, 60), threads=2))
        result_rows.write_rows(self.b, rows("x", range(120, 130)) + rows("x", range(50, 60), threads=2))

    def run_compare(self, *args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            self.assertEqual(compare.main(list(args)), 0)
        return out.getvalue(), err.getvalue()

    def test_cells(self):
        results = compare.compare_cells(compare.group(result_rows.read_rows(self.a), "mops"),
                                        compare.group(result_rows.read_rows(self.b), "mops"), 0.05)
        fast, same = results
        self.assertEqual((fast["median_a"], fast["median_b"]), (104.5, 124.5))
        self.assertAlmostEqual(fast["ratio"], 124.5 / 104.5)
        self.assertAlmostEqual(fast["p_value"], 2.0 / 184756.0)  # C(20, 10) = 184756
        self.assertTrue(fast["significant"])
        self.assertLess(fast["spread"][0], fast["ratio"])
        self.assertGreater(fast["spread"][1], fast["ratio"])
        self.assertEqual(same["ratio"], 1.0)
        self.assertFalse(same["significant"])

    def test_output_marks_significance_and_geometric_mean(self):
        out, err = self.run_compare(self.a, self.b)
        self.assertIn("| rl_small | x | – | 1 | 104.5 | 124.5 | 1.191 (", out)
        self.assertIn("**significant**", out)
        self.assertIn("not significant", out)
        # sqrt(124.5 / 104.5 * 1.0) = 1.0915
        self.assertIn("Geometric mean of b/a over 2 settings: **1.092**; 1 of them differ significantly at alpha = 0.05", out)
        self.assertEqual(err, "")  # 10 repetitions: no warning

    def test_warns_below_nine_repetitions(self):
        few = os.path.join(os.path.dirname(self.a), "few.csv")
        result_rows.write_rows(few, rows("x", [1, 2, 3]))
        _, err = self.run_compare(few, self.b)
        self.assertIn("as few as 3 repetitions", err)

    def test_pair_compares_two_allocators(self):
        both = os.path.join(os.path.dirname(self.a), "both.csv")
        result_rows.write_rows(both, rows("old", range(100, 110)) + rows("new", range(120, 130)))
        out, _ = self.run_compare(both, both, "--pair=old:new")
        self.assertIn("| rl_small | old vs new | – | 1 | 104.5 | 124.5 |", out)

    def test_errors(self):
        with self.assertRaisesRegex(compare.CompareError, "two result files"):
            compare.main([self.a])
        with self.assertRaisesRegex(compare.CompareError, "alpha must be in"):
            compare.main([self.a, self.b, "--alpha=2"])
        with self.assertRaisesRegex(compare.CompareError, "no column 'speed'"):
            compare.main([self.a, self.b, "--metric=speed"])


if __name__ == "__main__":
    unittest.main()
