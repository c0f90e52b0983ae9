"""Statistics for comparing repetitions: medians, quantiles, the geometric mean and the Mann-Whitney U
test (two-sided), exact for small samples without ties and by the normal approximation with tie and
continuity corrections otherwise."""
import collections
import math

MannWhitney = collections.namedtuple("MannWhitney", "u_a u_b p_value method")

# Exact p-values are computed while the number of (a, b) pairs stays this small; beyond it the normal
# approximation is accurate to well under 0.01 and the exact table would be large.
EXACT_MAX_PAIRS = 400


def quantile(values, q):
    """The q-quantile (0 <= q <= 1) with linear interpolation between order statistics."""
    if not values:
        raise ValueError("quantile of no values")
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values):
    return quantile(values, 0.5)


def geometric_mean(values):
    if not values:
        raise ValueError("geometric mean of no values")
    if any(v <= 0 for v in values):
        raise ValueError("geometric mean needs positive values")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def ranks(values):
    """1-based ranks, ties given the mean of the ranks they span. Also returns the sizes of the tie
    groups (for the variance correction)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean_rank = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            out[order[k]] = mean_rank
        ties.append(j - i + 1)
        i = j + 1
    return out, ties


def _exact_counts(m, n):
    """counts[u]: how many of the C(m+n, m) orderings of m a's and n b's give U_a = u (no ties).
    Recurrence on the largest value: it is an a (adds n to U_a) or a b."""
    # table[i][j] is the count list for i a's and j b's.
    table = [[None] * (n + 1) for _ in range(m + 1)]
    for i in range(m + 1):
        for j in range(n + 1):
            if i == 0 or j == 0:
                table[i][j] = [1]
                continue
            size = i * j + 1
            c = [0] * size
            for u, k in enumerate(table[i - 1][j]):  # the largest is an a: it beats all j b's
                c[u + j] += k
            for u, k in enumerate(table[i][j - 1]):  # the largest is a b
                c[u] += k
            table[i][j] = c
    return table[m][n]


def mann_whitney_u(a, b, method="auto"):
    """Two-sided Mann-Whitney U test of samples a and b.

    u_a counts the pairs (x in a, y in b) with x > y, plus half the ties; u_b = len(a) * len(b) - u_a.
    p_value: exact (method "exact") when there are no ties and at most EXACT_MAX_PAIRS pairs,
    otherwise the normal approximation with tie correction and a continuity correction of 0.5
    (method "normal"). `method` "exact" or "normal" forces one (exact needs samples without ties)."""
    if method not in ("auto", "exact", "normal"):
        raise ValueError("method must be auto, exact or normal")
    m, n = len(a), len(b)
    if m == 0 or n == 0:
        raise ValueError("Mann-Whitney U needs two non-empty samples")
    r, ties = ranks(list(a) + list(b))
    rank_sum_a = sum(r[:m])
    u_a = rank_sum_a - m * (m + 1) / 2.0
    u_b = m * n - u_a
    has_ties = any(t > 1 for t in ties)
    if method == "exact" and has_ties:
        raise ValueError("the exact test needs samples without ties")
    if method == "exact" or method == "auto" and not has_ties and m * n <= EXACT_MAX_PAIRS:
        counts = _exact_counts(m, n)
        total = float(sum(counts))
        u_small = int(round(min(u_a, u_b)))
        tail = sum(counts[: u_small + 1]) / total
        return MannWhitney(u_a, u_b, min(1.0, 2.0 * tail), "exact")
    total_n = m + n
    tie_term = sum(t ** 3 - t for t in ties) / float(total_n * (total_n - 1))
    variance = m * n / 12.0 * ((total_n + 1) - tie_term)
    if variance <= 0:  # every value equal: no evidence of a difference
        return MannWhitney(u_a, u_b, 1.0, "normal")
    z = max(0.0, abs(u_a - m * n / 2.0) - 0.5) / math.sqrt(variance)
    return MannWhitney(u_a, u_b, min(1.0, math.erfc(z / math.sqrt(2.0))), "normal")
