/* traced_lib.c — a shared library the traced program dlopens (built with
 * -finstrument-functions): its calls must resolve to its own symbols. */
int lib_scale(int x);
int lib_scale(int x) {
    return 3 * x + 1;
}
