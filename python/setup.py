"""Build of dasf_profiler: the Python package over the dasf-profiler C runtime.

How the extension gets the C library (docs/PYTHON.md, "Install"):

* from the source tree (the default, when ../runtime and ../include exist, as in a clone):
  the runtime's own C sources are compiled into the extension -- the same code as
  libdasf-profiler, not a second runtime -- and linked with the Debian libraries it uses
  (liburcu-bp, libzstd, libmsgpackc, found with pkg-config).  pip >= 21.3 builds in the
  source tree, so `pip install --no-build-isolation ./python` needs nothing but
  python3-dev, python3-setuptools, python3-pip and the library's -dev packages;
* DASF_PROFILER_STATIC_LIB=/path/libdasf-profiler.a: link that archive (a CMake build of
  the same sources; ./build.sh uses it for the sanitizer build);
* DASF_PROFILER_PKGCONFIG=1, or no source tree: link the installed shared library found
  with `pkg-config dasf-profiler` (cmake --install of the C project).

DASF_PROFILER_SANITIZE=address (or thread) compiles the extension with that sanitizer;
DASF_PROFILER_BUILD_DIR puts setuptools' build and egg-info directories there.
"""
import glob
import os
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNTIME = os.path.join(ROOT, "runtime")
INCLUDE = os.path.join(ROOT, "include")


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", "") or str(e)
        raise SystemExit(f"dasf_profiler setup: pkg-config {' '.join(args)} failed: {err}")
    return shlex.split(out.stdout)


def split_flags(flags):
    inc = [f[2:] for f in flags if f.startswith("-I")]
    libs = [f[2:] for f in flags if f.startswith("-l")]
    libdirs = [f[2:] for f in flags if f.startswith("-L")]
    other = [f for f in flags if f[:2] not in ("-I", "-l", "-L")]
    return inc, libs, libdirs, other


def native_extension():
    # Warnings are errors here as in the C project (docs/BUILD.md).
    cflags = ["-std=gnu11", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror",
              "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    ldflags = ["-Wl,--version-script=" + os.path.join(HERE, "dasf_profiler", "_native.map")]
    sanitize = os.environ.get("DASF_PROFILER_SANITIZE")
    if sanitize == "address":
        san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
               "-fno-omit-frame-pointer"]
        cflags += san
        ldflags += san
    elif sanitize:
        cflags.append(f"-fsanitize={sanitize}")
        ldflags.append(f"-fsanitize={sanitize}")
    # the extension's own files: _native.c (module) and _native_*.c, one job each,
    # sharing the private header _native.h (listed in depends: a rebuild when it
    # changes, and shipped in the sdist with the sources)
    sources = sorted(os.path.relpath(s, HERE)
                     for s in glob.glob(os.path.join(HERE, "dasf_profiler", "_native*.c")))
    native_depends = [os.path.join("dasf_profiler", "_native.h"),
                      os.path.join("dasf_profiler", "_native.map")]
    depends = []
    macros = [("_GNU_SOURCE", None)]
    static_lib = os.environ.get("DASF_PROFILER_STATIC_LIB")
    in_tree = os.path.isdir(RUNTIME) and os.path.isfile(os.path.join(INCLUDE, "dasf", "profiler.h"))
    if static_lib or (in_tree and os.environ.get("DASF_PROFILER_PKGCONFIG") != "1"):
        inc, libs, libdirs, other = split_flags(
            pkg_config("--cflags", "--libs", "liburcu-bp", "libzstd", "msgpack"))
        include_dirs = [INCLUDE] + inc
        extra_objects = []
        if static_lib:
            extra_objects = [os.path.abspath(static_lib)]
            # relink when the archive changes (else a stale extension is kept)
            depends.append(os.path.abspath(static_lib))
        else:
            # runtime/ has one folder per pipeline stage; headers are included by
            # their plain names, so runtime/ and each stage folder are include dirs
            # (as in CMakeLists.txt).
            runtime_sources = sorted(glob.glob(os.path.join(RUNTIME, "**", "*.c"), recursive=True))
            sources += [os.path.relpath(s, HERE) for s in runtime_sources]
            include_dirs.append(RUNTIME)
            include_dirs += sorted(d for d in glob.glob(os.path.join(RUNTIME, "*"))
                                   if os.path.isdir(d))
            depends = sorted(glob.glob(os.path.join(RUNTIME, "**", "*.h"), recursive=True))
        depends.append(os.path.join(INCLUDE, "dasf", "profiler.h"))
        libs += ["pthread", "m"]
    else:
        inc, libs, libdirs, other = split_flags(pkg_config("--cflags", "--libs", "dasf-profiler"))
        include_dirs = inc
        extra_objects = []
        ldflags += [f"-Wl,-rpath,{d}" for d in libdirs]
    return Extension(
        "dasf_profiler._native",
        sources=sources,
        depends=native_depends + depends,
        include_dirs=include_dirs,
        define_macros=macros,
        libraries=libs,
        library_dirs=libdirs,
        extra_objects=extra_objects,
        extra_compile_args=cflags + other,
        extra_link_args=ldflags,
    )


class build_py_with_pth(build_py):
    """Also ships dasf_profiler_dropin.pth at the top of site-packages: the start-up hook
    that makes `dasf.profile.profiler` this package when DASF_PROFILER_DROPIN=1."""

    def run(self):
        super().run()
        self.copy_file(os.path.join(HERE, "dasf_profiler_dropin.pth"),
                       os.path.join(self.build_lib, "dasf_profiler_dropin.pth"))


build_dir = os.environ.get("DASF_PROFILER_BUILD_DIR")
options = {}
if build_dir:
    os.makedirs(build_dir, exist_ok=True)
    options = {"build": {"build_base": build_dir}, "egg_info": {"egg_base": build_dir}}

setup(
    name="dasf_profiler",
    version="0.1.0",
    description="dasf.profile.profiler on the dasf-profiler C runtime",
    license="see the dasf-profiler repository",
    python_requires=">=3.9",
    packages=["dasf_profiler"],
    ext_modules=[native_extension()],
    cmdclass={"build_py": build_py_with_pth},
    options=options,
    zip_safe=False,
)
