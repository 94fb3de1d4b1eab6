/* Small integer functions: called through a generated driver (oorl.ir.drivers). */
int gcd(int a, int b) {
  while (b != 0) {
    int t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}

int clamp(int x, int lo, int hi) {
  if (x < lo) return lo;
  if (x > hi) return hi;
  return x;
}

int sign(long x) { return (x > 0) - (x < 0); }

long sum_to(int n) {
  long s = 0;
  for (int i = 1; i <= n; i++) s += i;
  return s;
}
