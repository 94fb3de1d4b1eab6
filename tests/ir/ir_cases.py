"""Shared inputs of the IR-group tests (imported by name; conftest.py holds only fixtures)."""

from importlib import resources
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(str(resources.files("oorl") / "data" / "ir"))

# The equivalence trap from docs/IR_PIPELINE.md: `>` -> `>=` in a max loop changes nothing.
MAX_LOOP = """#include <stdio.h>
int main(void) {
  int n, best;
  if (scanf("%d", &n) != 1 || n < 1) return 1;
  scanf("%d", &best);
  for (int i = 1; i < n; i++) { int x; scanf("%d", &x); if (x > best) best = x; }
  printf("%d\\n", best);
  return 0;
}
"""
MAX_INPUTS = ["3\n1 5 2\n", "4\n-1 -5 -2 -9\n", "1\n7\n", "5\n3 3 9 9 1\n", "2\n-8 8\n", "3\n4 4 4\n"]
