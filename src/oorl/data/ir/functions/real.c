/* Floating-point functions (printed with all 17 significant digits). */
double lerp(double a, double b, double t) { return a + (b - a) * t; }

double poly(double x) { return ((2.0 * x - 3.0) * x + 0.5) * x - 7.0; }

int in_unit_circle(double x, double y) { return x * x + y * y <= 1.0; }
