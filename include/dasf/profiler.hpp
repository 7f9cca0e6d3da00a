/*
 * dasf-profiler for C++ — a thin, header-only layer over <dasf/profiler.h>.
 *
 *   dasf::profiler prof;                       // owns a dasf_profiler
 *   if (int rc = prof.create("run.msgpack.zst")) { std::puts(dasf::strerror(rc)); return 1; }
 *   static const dasf::name step("step");      // interned once
 *   for (int i = 0; i < n; i++) {
 *       dasf::zone z(prof, step);              // a complete event: here -> end of scope
 *       solve(i);
 *   }
 *   double t = dasf::now();
 *   write_results();
 *   prof.complete("write", t, dasf::now() - t, dasf::arg("bytes", 1 << 20),
 *                 dasf::arg("file", path));     // typed args, no heap
 *   return prof.destroy() ? 1 : 0;             // commit + close; 0 or a dasf_status
 *
 * What it promises:
 *  - C++11 or later, g++ and clang++; no exceptions are thrown or needed (it
 *    builds with -fno-exceptions -fno-rtti); every call is noexcept and
 *    returns the C API's status code (0 = DASF_OK, negative = dasf_status;
 *    dasf::strerror explains it).
 *  - Nothing on the record path allocates: args are a fixed-size array on
 *    the caller's stack, sized at compile time by the number of arguments;
 *    strings are passed by pointer (the library copies them before the call
 *    returns, as in C).
 *  - The same events as the C calls: dasf::zone is DASF_ZONE's clock and end
 *    hook as an object; profiler::complete/instant/begin/end are the
 *    dasf_profiler_record_*_event calls.
 * DASF_ZONE(p, "literal") itself works in C++ too (gcc/clang cleanup
 * attribute), with a per-call-site interned name.
 */
#ifndef DASF_PROFILER_HPP
#define DASF_PROFILER_HPP

#include <dasf/profiler.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#if __cplusplus >= 201703L
#define DASF_NODISCARD [[nodiscard]]
#else
#define DASF_NODISCARD
#endif

namespace dasf {

/*! strerror() : dasf_strerror (a static sentence for a status, never NULL). */
inline const char *strerror(int status) noexcept { return dasf_strerror(status); }
/*! now() / now_ns() : the library clock (dasf_now, dasf_now_ns). */
inline double now() noexcept { return dasf_now(); }
inline std::int64_t now_ns() noexcept { return dasf_now_ns(); }

/*! arg : one typed key/value of an event's args.  The type is chosen at
 *  compile time from the value: bool -> BOOL, signed integers -> INT,
 *  unsigned integers -> UINT, float/double -> DOUBLE, const char* and
 *  std::string -> STR (the string must live until the record call returns).
 *  arg::msgpack() passes one complete msgpack value (nested data). */
class arg {
  public:
    arg(const char *key, bool v) noexcept : a_(make(key, DASF_ARG_BOOL)) { a_.v.b = v; }

    template <class T, typename std::enable_if<std::is_integral<T>::value &&
                                                   !std::is_same<T, bool>::value &&
                                                   std::is_signed<T>::value,
                                               int>::type = 0>
    arg(const char *key, T v) noexcept : a_(make(key, DASF_ARG_INT)) {
        a_.v.i = static_cast<std::int64_t>(v);
    }

    template <class T, typename std::enable_if<std::is_integral<T>::value &&
                                                   !std::is_same<T, bool>::value &&
                                                   std::is_unsigned<T>::value,
                                               int>::type = 0>
    arg(const char *key, T v) noexcept : a_(make(key, DASF_ARG_UINT)) {
        a_.v.u = static_cast<std::uint64_t>(v);
    }

    template <class T,
              typename std::enable_if<std::is_floating_point<T>::value, int>::type = 0>
    arg(const char *key, T v) noexcept : a_(make(key, DASF_ARG_DOUBLE)) {
        a_.v.d = static_cast<double>(v);
    }

    arg(const char *key, const char *v) noexcept : a_(make(key, DASF_ARG_STR)) { a_.v.s = v; }
    arg(const char *key, const std::string &v) noexcept : a_(make(key, DASF_ARG_STR)) {
        a_.v.s = v.c_str();
    }

    /*! msgpack() : data/size is one complete msgpack value, copied on record. */
    static arg msgpack(const char *key, const void *data, std::size_t size) noexcept {
        arg r(key, DASF_ARG_MSGPACK, 0);
        r.a_.v.raw.data = data;
        r.a_.v.raw.size = size;
        return r;
    }

    /*! c() : the C value (for the C API's dasf_arg arrays). */
    const dasf_arg &c() const noexcept { return a_; }

  private:
    arg(const char *key, dasf_arg_type t, int) noexcept : a_(make(key, t)) {}
    static dasf_arg make(const char *key, dasf_arg_type t) noexcept {
        dasf_arg a = dasf_arg(); /* all zero */
        a.key = key;
        a.type = t;
        return a;
    }
    dasf_arg a_;
};

/*! args<N> : N dasf_arg in an array (make_args builds one; N is the number
 *  of arguments, known at compile time).  data()/size() feed any C call that
 *  takes (const dasf_arg *, size_t), e.g. dasf_record_counter. */
template <std::size_t N> struct args {
    dasf_arg items[N];
    const dasf_arg *data() const noexcept { return items; }
    static constexpr std::size_t size() noexcept { return N; }
};

template <class... A>
args<sizeof...(A) + 1> make_args(const arg &first, const A &...rest) noexcept {
    args<sizeof...(A) + 1> r = {{first.c(), arg(rest).c()...}};
    return r;
}

/*! name : a name interned once (dasf_intern); keep it (e.g. static) and
 *  hand it to zone for the fastest path.  A NULL string or an exhausted
 *  interner gives an invalid name (handle 0): zones on it record nothing. */
class name {
  public:
    explicit name(const char *s) noexcept : h_(dasf_intern(s)) {}
    dasf_name handle() const noexcept { return h_; }
    const char *str() const noexcept { return dasf_name_str(h_); }
    explicit operator bool() const noexcept { return h_ != 0; }

  private:
    dasf_name h_;
};

class profiler;

/*! zone : a complete event from construction to destruction (or end()),
 *  timed with the library clock, like DASF_ZONE.  A NULL or closed profiler
 *  makes it a no-op.  Not copyable, not movable: it belongs to its scope. */
class zone {
  public:
    zone(dasf_profiler *p, dasf_name n) noexcept { start(p, n); }
    zone(dasf_profiler *p, const name &n) noexcept { start(p, n.handle()); }
    /*! With a plain string the name is interned here, every time (a hash
     *  lookup): prefer a kept dasf::name in hot loops. */
    zone(dasf_profiler *p, const char *s) noexcept { start(p, dasf_intern(s)); }
    inline zone(const profiler &p, const name &n) noexcept;
    inline zone(const profiler &p, const char *s) noexcept;
    ~zone() { end(); }
    zone(const zone &) = delete;
    zone &operator=(const zone &) = delete;

    /*! end() : records the event now; the destructor then does nothing. */
    void end() noexcept {
        if (ctx_.p) dasf_zone_end(&ctx_);
        ctx_.p = nullptr;
    }

  private:
    void start(dasf_profiler *p, dasf_name n) noexcept {
        ctx_.p = p;
        ctx_.name = n;
        ctx_.start = dasf_zone_ticks(); /* last: the set-up is not in the zone */
    }
    dasf_zone_ctx ctx_;
};

/*! profiler : owns one dasf_profiler (movable, not copyable).  Calls on a
 *  profiler that is not open return DASF_EINVAL, as the C calls do on NULL.
 *  The destructor destroys it too, but only destroy() reports the status of
 *  the final commit: call it when that matters. */
class profiler {
  public:
    profiler() noexcept : p_(nullptr) {}
    /*! Adopts a profiler made with dasf_profiler_create. */
    explicit profiler(dasf_profiler *p) noexcept : p_(p) {}
    ~profiler() { (void)destroy(); }
    profiler(const profiler &) = delete;
    profiler &operator=(const profiler &) = delete;
    profiler(profiler &&o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    profiler &operator=(profiler &&o) noexcept {
        if (this != &o) {
            (void)destroy();
            p_ = o.p_;
            o.p_ = nullptr;
        }
        return *this;
    }

    /*! create() : dasf_profiler_create (same rules: NULL file = a random
     *  "traces-XXXXXXXX" name; NULL opts = the profiler's defaults; db = a
     *  database you own).  DASF_EINVAL when this profiler is already open. */
    DASF_NODISCARD int create(const char *database_file = nullptr,
                              const dasf_file_db_options *opts = nullptr,
                              dasf_db *database = nullptr) noexcept {
        if (p_) return DASF_EINVAL;
        return dasf_profiler_create(&p_, database_file, opts, database);
    }
    /*! commit() : dasf_profiler_commit (every event so far is in the file). */
    int commit() noexcept { return dasf_profiler_commit(p_); }
    /*! destroy() : dasf_profiler_destroy; 0 when not open.  Afterwards the
     *  object is empty and create() may be called again. */
    int destroy() noexcept {
        if (!p_) return DASF_OK;
        int rc = dasf_profiler_destroy(p_);
        p_ = nullptr;
        return rc;
    }

    bool is_open() const noexcept { return p_ != nullptr; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    dasf_profiler *get() const noexcept { return p_; }
    /*! release() : gives up ownership (the caller destroys it). */
    dasf_profiler *release() noexcept {
        dasf_profiler *p = p_;
        p_ = nullptr;
        return p;
    }
    /*! output_file() : the file name, or NULL (user database / not open). */
    const char *output_file() const noexcept {
        return p_ ? dasf_profiler_output_file(p_) : nullptr;
    }

    /* The four event kinds of the Python API, with optional typed args. */
    int complete(const char *n, double ts, double dur) noexcept {
        return dasf_profiler_record_complete_event(p_, n, ts, dur, nullptr);
    }
    template <class... A>
    int complete(const char *n, double ts, double dur, const arg &a, const A &...more) noexcept {
        dasf_arg v[] = {a.c(), arg(more).c()...};
        dasf_record_opts o = opts(v, sizeof v / sizeof *v);
        return dasf_profiler_record_complete_event(p_, n, ts, dur, &o);
    }
    /*! instant() : global scope (the Python default); record() for others. */
    int instant(const char *n, double ts) noexcept {
        return dasf_profiler_record_instant_event(p_, n, ts, nullptr);
    }
    template <class... A>
    int instant(const char *n, double ts, const arg &a, const A &...more) noexcept {
        dasf_arg v[] = {a.c(), arg(more).c()...};
        dasf_record_opts o = opts(v, sizeof v / sizeof *v);
        return dasf_profiler_record_instant_event(p_, n, ts, &o);
    }
    int begin(const char *n, double ts) noexcept {
        return dasf_profiler_record_duration_begin_event(p_, n, ts, nullptr);
    }
    template <class... A>
    int begin(const char *n, double ts, const arg &a, const A &...more) noexcept {
        dasf_arg v[] = {a.c(), arg(more).c()...};
        dasf_record_opts o = opts(v, sizeof v / sizeof *v);
        return dasf_profiler_record_duration_begin_event(p_, n, ts, &o);
    }
    int end(const char *n, double ts) noexcept {
        return dasf_profiler_record_duration_end_event(p_, n, ts, nullptr);
    }
    template <class... A>
    int end(const char *n, double ts, const arg &a, const A &...more) noexcept {
        dasf_arg v[] = {a.c(), arg(more).c()...};
        dasf_record_opts o = opts(v, sizeof v / sizeof *v);
        return dasf_profiler_record_duration_end_event(p_, n, ts, &o);
    }
    /*! counter() : phase C, one series per arg. */
    template <class... A>
    int counter(const char *n, double ts, const arg &a, const A &...more) noexcept {
        dasf_arg v[] = {a.c(), arg(more).c()...};
        return dasf_record_counter(p_, n, ts, v, sizeof v / sizeof *v);
    }
    /*! record() : any phase, every field (dasf_profiler_record). */
    int record(const dasf_event &ev) noexcept { return dasf_profiler_record(p_, &ev); }

  private:
    static dasf_record_opts opts(const dasf_arg *v, std::size_t n) noexcept {
        dasf_record_opts o = dasf_record_opts(); /* defaults: automatic ids, global */
        o.args = v;
        o.n_args = n;
        return o;
    }
    dasf_profiler *p_;
};

inline zone::zone(const profiler &p, const name &n) noexcept { start(p.get(), n.handle()); }
inline zone::zone(const profiler &p, const char *s) noexcept {
    start(p.get(), dasf_intern(s));
}

} // namespace dasf

#endif /* DASF_PROFILER_HPP */
