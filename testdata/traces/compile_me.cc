// The file g++ compiles in gxx_compile.abt: templates and recursion enough to make the compiler
// allocate, without library headers (which would make the trace tens of MB).
template <int N>
struct fib {
  static constexpr long value = fib<N - 1>::value + fib<N - 2>::value;
};
template <>
struct fib<1> {
  static constexpr long value = 1;
};
template <>
struct fib<0> {
  static constexpr long value = 0;
};

template <typename T, int N>
struct array {
  T data[N];
  constexpr T sum() const {
    T s{};
    for (int i = 0; i < N; ++i) s += data[i];
    return s;
  }
};

template <typename... Ts>
constexpr long count(Ts... xs) {
  return (0 + ... + long(xs));
}

int main() {
  array<long, 8> a{{fib<10>::value, fib<20>::value, fib<30>::value, fib<40>::value, 1, 2, 3, 4}};
  return int((a.sum() + count(1, 2, 3, 4, 5, 6, 7, 8)) % 7);
}
