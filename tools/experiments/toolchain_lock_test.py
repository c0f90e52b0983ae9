"""toolchain.lock: what a sweep says when the machine differs from it."""
import json
import os
import tempfile
import unittest

import toolchain_lock


class ToolchainLockTest(unittest.TestCase):
    def setUp(self):
        self.path = os.path.join(tempfile.mkdtemp(), "toolchain.lock")
        with open(self.path, "w") as f:
            json.dump({"compiler": "g++ (Debian 12.2.0-14) 12.2.0",
                       "packages": {"bazel-bootstrap": "4.2.3+ds-9", "libjemalloc-dev": "5.3.0-1", "libmimalloc-dev": "2.0.9"}}, f)

    def test_same_machine_no_differences(self):
        machine = {"compiler": "g++ (Debian 12.2.0-14) 12.2.0",
                   "packages": {"bazel-bootstrap": "4.2.3+ds-9", "libjemalloc-dev": "5.3.0-1", "libmimalloc-dev": "2.0.9"}}
        self.assertEqual(toolchain_lock.differences(self.path, machine), [])

    def test_each_difference_named(self):
        machine = {"compiler": "g++ (Debian 13.1.0-1) 13.1.0",
                   "packages": {"bazel-bootstrap": "4.2.3+ds-9", "libjemalloc-dev": "5.3.0-2", "libtbb-dev": "2021.8"}}
        self.assertEqual(toolchain_lock.differences(self.path, machine), [
            "compiler: lock has 'g++ (Debian 12.2.0-14) 12.2.0', this machine 'g++ (Debian 13.1.0-1) 13.1.0'",
            "libjemalloc-dev: lock has 5.3.0-1, this machine 5.3.0-2",
            "libmimalloc-dev: lock has 2.0.9, this machine (not installed)",
            "libtbb-dev: lock has (not installed), this machine 2021.8",
        ])

    def test_missing_or_broken_lock(self):
        self.assertIn("no toolchain.lock", toolchain_lock.differences(self.path + ".nope", {})[0])
        with open(self.path, "w") as f:
            f.write("{")
        self.assertIn("is not JSON", toolchain_lock.differences(self.path, {})[0])

    def test_written_lock_matches_this_machine(self):
        toolchain_lock.write(self.path)
        self.assertEqual(toolchain_lock.differences(self.path), [])


if __name__ == "__main__":
    unittest.main()
