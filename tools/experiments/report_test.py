"""The report turns a small checked-in result file (testdata/sweeps/small_results.csv, medians that are
round numbers) into the expected tables and image files."""
import os
import shutil
import tempfile
import unittest

import report
from paths import runfiles_root

SMALL = os.path.join(runfiles_root(), "testdata", "sweeps", "small_results.csv")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp())
        cls.out = tempfile.mkdtemp()
        assert report.main([SMALL, "--out=" + cls.out]) == 0
        with open(os.path.join(cls.out, "report.md")) as f:
            cls.md = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out)

    def test_image_files(self):
        expected = ["latency_percentiles.png", "overhead_ratio.png", "peak_memory.png", "report.md",
                    "scaling_alignment64.png", "scaling_rl_small.png", "throughput_by_workload.png"]
        self.assertEqual(sorted(os.listdir(self.out)), expected)
        for name in [e for e in expected if e.endswith(".png")]:
            with open(os.path.join(self.out, name), "rb") as f:
                data = f.read()
            self.assertEqual(data[:8], PNG_MAGIC, name)
            self.assertGreater(len(data), 10000, name)  # a drawn figure, not an empty canvas
            self.assertIn("](%s)" % name, self.md)      # and the report shows it

    def test_table1_sets_ours_beside_the_reports(self):
        self.assertIn("| threads | report: system | report: baseline | report: sharded | ours: glibc (system) | "
                      "ours: seed_baseline | ours: seed_sharded | ours: seed_baseline + guard | ours: seed_sharded + guard |",
                      self.md)
        self.assertIn("| 1 | 13.7 | 14.0 | 16.2 | 60.0 | 40.0 | 40.0 | 20.0 | 20.0 |", self.md)
        self.assertIn("| 2 | 19.1 | 7.5 | 7.3 | 100.0 | 50.0 | 80.0 | 10.0 | 8.0 |", self.md)
        self.assertIn("| 16 | – | 2.9 | 2.6 | – | – | – | – | – |", self.md)

    def test_collapse_split(self):
        # 2 threads, baseline: ln(100 / 50) / ln(100 / 10) = 30 % lock, 70 % guard; sharded:
        # ln(100 / 80) / ln(100 / 8) = 9 % lock. The report rebuilt (the note's figures) at 2 threads:
        # baseline ln(44.4 / 35.4) / ln(44.4 / 7.4) = 13 %, sharded ln(44.4 / 35.0) / ln(44.4 / 8.9) = 15 %.
        self.assertIn("| 2 | 100.0 | 50.0 | 10.0 | 30 % / 70 % | 80.0 | 8.0 | 9 % / 91 % | 13 % / 87 % | 15 % / 85 % |",
                      self.md)

    def test_fragmentation_and_memory_tables(self):
        self.assertIn("| rl_small (1 thread) | 1.18 | 1.080 | 1.174 | 1.174 | 1.174 | 1.174 |", self.md)
        self.assertIn("| alignment64 (1 thread) | 1.72 | 1.200 | 1.097 | 1.097 | 1.097 | 1.097 |", self.md)
        # Peak live bytes at 2 threads: 2 MiB * (allocator index + 1); RSS 8 MiB * (index + 1).
        self.assertIn("| rl_small (2 threads) | 2.0 / 8.0 | 4.0 / 16.0 | 6.0 / 24.0 | 8.0 / 32.0 | 10.0 / 40.0 |", self.md)

    def test_production_comparison_and_latency(self):
        self.assertIn("| **seed_sharded** | 40.0 (39.0–41.0) 0.67x | 80.0 (79.0–81.0) 0.80x |", self.md)
        self.assertIn("| glibc | 60.0 (59.0–61.0) | 100.0 (99.0–101.0) |", self.md)
        self.assertIn("| seed_baseline | 21 | 110 | 1100 | 19 | 100 | 1000 |", self.md)

    def test_provenance(self):
        self.assertIn("- rows: 60 (20 run settings, 3 repetitions each)", self.md)
        self.assertIn("- commit: `abc1234`", self.md)
        self.assertIn("- machine: `testhost`", self.md)


if __name__ == "__main__":
    unittest.main()
