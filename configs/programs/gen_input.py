#!/usr/bin/python3
"""Writes the input files of configs/programs/*.json, deterministically from a seed.

Run by //bench:programs in a program's input directory before anything is timed (under glibc):
  gen_input.py records SEED COUNT FILE   JSON array of nested records (python_json)
  gen_input.py lines SEED COUNT FILE     text lines of words and numbers (sort, xz, perl)
  gen_input.py cxx SEED COUNT FILE       a C++ file with COUNT template-heavy functions (g++)
Only the standard library's random.Random(seed) is used, so a seed gives the same bytes every time.
"""
import json
import random
import sys

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "qu", "ba", "do", "fe", "gi", "ho",
             "ju", "pa", "re", "si", "tu", "wa", "xi", "yo", "ca", "el", "or", "an", "is", "um", "ex"]


def word(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))


def records(rng, count, out):
    docs = []
    for i in range(count):
        docs.append({
            "id": i,
            "user": word(rng),
            "tags": [word(rng) for _ in range(rng.randint(0, 6))],
            "score": round(rng.random() * 1000, 3),
            "attrs": {word(rng): rng.randint(0, 99) for _ in range(rng.randint(1, 5))},
            "events": [{"t": rng.randint(0, 10**6), "kind": rng.choice(["view", "buy", "click", "skip"])}
                       for _ in range(rng.randint(0, 4))],
        })
    json.dump(docs, out, separators=(",", ":"))


def lines(rng, count, out):
    for _ in range(count):
        n = rng.randint(2, 9)
        out.write(" ".join(word(rng) if rng.random() < 0.8 else str(rng.randint(0, 99999)) for _ in range(n)))
        out.write("\n")


def cxx(rng, count, out):
    out.write("#include <algorithm>\n#include <functional>\n#include <map>\n#include <memory>\n"
              "#include <numeric>\n#include <string>\n#include <tuple>\n#include <unordered_map>\n"
              "#include <vector>\n\n")
    types = ["int", "long", "double", "std::string", "char", "unsigned", "short", "float"]
    for i in range(count):
        k, v = rng.choice(types), rng.choice(types)
        out.write(f"struct S{i} {{ {k} a; {v} b; std::vector<{k}> c; }};\n")
        out.write(f"std::size_t f{i}(const std::vector<S{i}>& in) {{\n"
                  f"  std::map<{k}, std::vector<{v}>> m;\n"
                  f"  std::unordered_map<std::size_t, std::pair<{k}, {v}>> u;\n"
                  f"  for (const auto& s : in) {{ m[s.a].push_back(s.b); u.emplace(s.c.size(), std::make_pair(s.a, s.b)); }}\n"
                  f"  std::vector<std::tuple<{k}, std::size_t>> t;\n"
                  f"  for (auto& [key, vals] : m) t.emplace_back(key, vals.size());\n"
                  f"  std::sort(t.begin(), t.end(), [](const auto& x, const auto& y) {{ return std::get<1>(x) < std::get<1>(y); }});\n"
                  f"  std::function<std::size_t(std::size_t)> g = [&](std::size_t n) {{ return n + u.size() + {rng.randint(1, 999)}; }};\n"
                  f"  return std::accumulate(t.begin(), t.end(), g(m.size()), [](std::size_t acc, const auto& x) {{ return acc + std::get<1>(x); }});\n"
                  f"}}\n")


def main():
    kind, seed, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    with open(path, "w") as out:
        {"records": records, "lines": lines, "cxx": cxx}[kind](rng, count, out)


if __name__ == "__main__":
    main()
