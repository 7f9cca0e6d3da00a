// traced_ns.cpp — the C++ part of the traced program: methods in a
// namespace, so the trace must show demangled names such as
// "geo::Square::area() const".
namespace geo {
struct Shape {
    virtual ~Shape() {}
    virtual double area() const = 0;
};
struct Square : Shape {
    double s;
    explicit Square(double x) : s(x) {}
    double area() const override { return s * s; }
};
} // namespace geo

extern "C" double cpp_shapes(int n);
extern "C" double cpp_shapes(int n) {
    double t = 0;
    for (int i = 0; i < n; i++) {
        geo::Square q(i);
        const geo::Shape &sh = q;
        t += sh.area();
    }
    return t;
}
