"""The result file: writer and reader agree, an interrupted write is survived, bad files are named."""
import os
import tempfile
import unittest

import result_rows


def row(**kw):
    r = {c: "" for c in result_rows.COLUMNS}
    r.update({"sweep": "s", "sweep_hash": "h", "cell": "rl_small|glibc||t1|r1", "config_hash": "c",
              "workload": "rl_small", "allocator": "glibc", "family": "peer", "knobs": "", "threads": 1, "rep": 1,
              "mops": 12.5, "overhead_ratio": None, "peak_live_bytes": 1048576, "consistent": True, "cores": 2})
    r.update(kw)
    return r


class ResultRows(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "r.csv")

    def test_round_trip(self):
        result_rows.append_rows(self.path, [row(), row(cell="x", knobs="live_cap=256,batch=\"a,b\"", mops=0.1)],
                                comments=["sweep: s"])
        result_rows.append_rows(self.path, [row(cell="y", consistent=False)], comments=["not written again"])
        rows = result_rows.read_rows(self.path)
        self.assertEqual([r["cell"] for r in rows], ["rl_small|glibc||t1|r1", "x", "y"])
        self.assertEqual(rows[0]["threads"], 1)
        self.assertEqual(rows[0]["mops"], 12.5)
        self.assertIsNone(rows[0]["overhead_ratio"])
        self.assertEqual(rows[0]["peak_live_bytes"], 1048576)
        self.assertTrue(rows[0]["consistent"])
        self.assertFalse(rows[2]["consistent"])
        self.assertEqual(rows[1]["knobs"], "live_cap=256,batch=\"a,b\"")  # commas and quotes survive
        self.assertEqual(result_rows.read_comments(self.path), ["sweep: s"])

    def test_an_unfinished_last_line_is_not_a_row_and_is_cut_before_appending(self):
        result_rows.append_rows(self.path, [row()])
        with open(self.path, "a") as f:
            f.write("s,h,rl_small|glibc||t2|r1,c,rl_sm")  # the writer was killed here
        self.assertEqual(len(result_rows.read_rows(self.path)), 1)
        self.assertGreater(result_rows.repair_tail(self.path), 0)
        result_rows.append_rows(self.path, [row(cell="z")])
        self.assertEqual([r["cell"] for r in result_rows.read_rows(self.path)], ["rl_small|glibc||t1|r1", "z"])
        self.assertEqual(result_rows.repair_tail(self.path), 0)

    def test_a_malformed_line_names_file_and_line(self):
        result_rows.append_rows(self.path, [row()])
        with open(self.path, "a") as f:
            f.write("too,few\n")
        with self.assertRaisesRegex(result_rows.ResultFileError, r"r\.csv:3: 2 fields"):
            result_rows.read_rows(self.path)

    def test_a_number_column_that_is_not_a_number(self):
        result_rows.append_rows(self.path, [row(mops="fast")])
        with self.assertRaisesRegex(result_rows.ResultFileError, "column mops: not a number"):
            result_rows.read_rows(self.path)

    def test_another_csv_is_refused(self):
        with open(self.path, "w") as f:
            f.write("allocator,threads\nglibc,1\n")
        with self.assertRaisesRegex(result_rows.ResultFileError, "not a sweep result file"):
            result_rows.read_rows(self.path)

    def test_write_rows_replaces(self):
        result_rows.append_rows(self.path, [row(), row(cell="b")])
        result_rows.write_rows(self.path, [row(cell="only")], ["merged"])
        self.assertEqual([r["cell"] for r in result_rows.read_rows(self.path)], ["only"])
        result_rows.write_rows(self.path, [], [])
        self.assertEqual(result_rows.read_rows(self.path), [])


if __name__ == "__main__":
    unittest.main()
