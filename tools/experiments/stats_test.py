"""The comparison's statistics against values worked out by hand (derivations beside each)."""
import math
import unittest

import stats


class Quantiles(unittest.TestCase):
    def test_median_and_quantiles(self):
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)
        self.assertEqual(stats.quantile([1, 2, 3, 4, 5], 0.25), 2)
        self.assertAlmostEqual(stats.quantile([1, 2, 3, 4], 0.25), 1.75)  # 1 + 0.75 * (2 - 1)
        with self.assertRaises(ValueError):
            stats.median([])

    def test_geometric_mean(self):
        self.assertAlmostEqual(stats.geometric_mean([1, 4]), 2.0)
        self.assertAlmostEqual(stats.geometric_mean([0.5, 2, 1]), 1.0)
        with self.assertRaises(ValueError):
            stats.geometric_mean([1, 0])


class MannWhitney(unittest.TestCase):
    def test_ranks_average_ties(self):
        r, ties = stats.ranks([1, 2, 2, 2, 3, 3, 4, 4])
        self.assertEqual(r, [1, 3, 3, 3, 5.5, 5.5, 7.5, 7.5])
        self.assertEqual(ties, [1, 3, 2, 2])

    def test_exact_distribution_2_by_2(self):
        # The 6 orderings of aabb: U_a = 0 (aabb), 1 (abab), 2 (abba, baab), 3 (baba), 4 (bbaa).
        self.assertEqual(stats._exact_counts(2, 2), [1, 1, 2, 1, 1])
        self.assertEqual(sum(stats._exact_counts(5, 4)), 126)  # C(9, 4)

    def test_exact_textbook_example(self):
        # a = 19 22 16 29 24, b = 20 11 17 12: 17 of the 20 pairs have a > b, so U_a = 17, U_b = 3.
        # P(U <= 3) for m = 5, n = 4 counts the partitions of 0..3 into at most 4 parts of at most 5:
        # 1 + 1 + 2 + 3 = 7 of 126 orderings; two-sided p = 2 * 7 / 126 = 1/9.
        t = stats.mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12])
        self.assertEqual((t.u_a, t.u_b, t.method), (17, 3, "exact"))
        self.assertAlmostEqual(t.p_value, 1.0 / 9.0, places=12)

    def test_normal_approximation_of_the_same(self):
        # mean 10, variance 5 * 4 * 10 / 12 = 50 / 3; z = (17 - 10 - 0.5) / sqrt(50 / 3) = 1.59217;
        # p = erfc(z / sqrt 2) = 0.111347.
        t = stats.mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12], method="normal")
        self.assertEqual(t.method, "normal")
        self.assertAlmostEqual(t.p_value, 0.111347, places=5)

    def test_complete_separation(self):
        # U = 0: only 1 of C(10, 5) = 252 orderings on each side, p = 2 / 252.
        t = stats.mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        self.assertEqual(t.u_a, 0)
        self.assertAlmostEqual(t.p_value, 2.0 / 252.0, places=12)
        self.assertAlmostEqual(stats.mann_whitney_u([1, 2, 3], [4, 5, 6]).p_value, 0.1)  # 2 / C(6, 3)

    def test_ties_use_the_corrected_normal_approximation(self):
        # a = 1 2 2 3, b = 2 3 4 4. Ranks (see test_ranks_average_ties): R_a = 1 + 3 + 3 + 5.5 = 12.5,
        # U_a = 12.5 - 4 * 5 / 2 = 2.5. Tie groups 1, 3, 2, 2: sum(t^3 - t) = 36, so the variance is
        # 16 / 12 * (9 - 36 / 56) = 11.142857; z = (|2.5 - 8| - 0.5) / sqrt(11.142857) = 1.497862,
        # p = erfc(z / sqrt 2) = 2 * (1 - Phi(1.497862)) = 0.134169.
        t = stats.mann_whitney_u([1, 2, 2, 3], [2, 3, 4, 4])
        self.assertEqual((t.u_a, t.u_b, t.method), (2.5, 13.5, "normal"))
        z = 5.0 / math.sqrt(16.0 / 12.0 * (9 - 36.0 / 56.0))
        self.assertAlmostEqual(t.p_value, math.erfc(z / math.sqrt(2)), places=12)
        self.assertAlmostEqual(t.p_value, 0.134169, places=5)
        with self.assertRaises(ValueError):
            stats.mann_whitney_u([1, 2, 2, 3], [2, 3, 4, 4], method="exact")

    def test_identical_samples_are_not_different(self):
        self.assertEqual(stats.mann_whitney_u([5, 5, 5], [5, 5]).p_value, 1.0)
        self.assertEqual(stats.mann_whitney_u([1, 2, 3], [1, 2, 3]).p_value, 1.0)

    def test_symmetry(self):
        a, b = [3.1, 2.7, 4.4, 5.0, 3.9], [1.2, 2.2, 2.9, 3.0]
        self.assertAlmostEqual(stats.mann_whitney_u(a, b).p_value, stats.mann_whitney_u(b, a).p_value)


if __name__ == "__main__":
    unittest.main()
