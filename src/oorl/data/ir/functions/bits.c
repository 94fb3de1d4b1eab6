/* Bit and digit functions on unsigned values. */
unsigned popcount(unsigned x) {
  unsigned c = 0;
  while (x) {
    c += x & 1u;
    x >>= 1;
  }
  return c;
}

unsigned isqrt(unsigned n) {
  unsigned r = 0;
  while ((r + 1) * (r + 1) <= n) r++;
  return r;
}

int digit_sum(int n) {
  if (n < 0) n = -n;
  int s = 0;
  while (n > 0) {
    s += n % 10;
    n /= 10;
  }
  return s;
}
