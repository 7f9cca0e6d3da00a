/*
 * symbols.c — read-time symbolization of function-call events recorded by
 * the preload (`dasf-trace record`, docs/RECORD.md).
 *
 * The preload names a call by its address ("0x55d0c0de1234") and records
 * each process image's modules ("dasf.module": path, build_id, base = load
 * address, image = when the image started).  Here, when the trace is read,
 * an address of process P at time T is looked up in the modules of P's
 * latest image that started at or before T, with elfutils' libdwfl (Debian's
 * libdw): the ELF symbol table gives the function (static ones included, as
 * long as the binary is not stripped; separate debug info is found the
 * standard way: .gnu_debuglink, /usr/lib/debug/.build-id), the DWARF line
 * table gives file:line.  C++ names are demangled with __cxa_demangle from
 * libstdc++ — the C++ ABI's own entry point, maintained with the compiler
 * that produced the names and installed wherever C++ programs run (GNU
 * libiberty's cplus_demangle is the same code but Debian ships it only as a
 * static archive).  A module whose build-id differs from the recorded one
 * (rebuilt since the run) is not trusted: its calls read "path+0xoffset".
 *
 * Single-threaded (the tool).  Results are cached per (pid, image, address).
 */
#include "symbols.h"

#include "array.h"
#include "messages.h"
#include "strmap.h"

#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libstdc++'s demangler (cxxabi.h is C++ only). */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

typedef struct sym_module {
    char *path;
    char build_id[130];
    uint64_t base;
    Dwfl_Module *mod; /* after the image's Dwfl is built; NULL: could not be read */
    bool trusted;     /* build-id matches (or none was recorded) */
} sym_module;

typedef struct sym_image {
    int64_t pid, image;
    sym_module *mods;
    size_t n, cap;
    Dwfl *dwfl;
    bool built;
} sym_image;

struct dt_symbols {
    sym_image *imgs;
    size_t n, cap;
    dt_strmap cache; /* "pid image addr" -> index into res */
    dt_resolved **res;
    size_t n_res, cap_res;
};

int dt_symbols_create(dt_symbols **out) {
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -1;
}

static const char *str_arg(const dasf_trace_event *ev, const char *key, size_t *len) {
    const dasf_value *v = dasf_value_map_get(&ev->args, key);
    if (!v || v->type != DASF_VAL_STR) return NULL;
    *len = v->v.str.len;
    return v->v.str.ptr;
}

static int64_t int_arg(const dasf_trace_event *ev, const char *key) {
    const dasf_value *v = dasf_value_map_get(&ev->args, key);
    if (!v) return 0;
    if (v->type == DASF_VAL_UINT) return (int64_t)v->v.u;
    if (v->type == DASF_VAL_INT) return v->v.i;
    return 0;
}

int dt_symbols_add_module(dt_symbols *s, const dasf_trace_event *ev) {
    if (ev->phase != DASF_PHASE_METADATA || strcmp(ev->name, "dasf.module")) return 0;
    if (ev->process_id.type != DASF_VAL_INT) return 0;
    size_t plen = 0, blen = 0;
    const char *path = str_arg(ev, "path", &plen);
    const char *bid = str_arg(ev, "build_id", &blen);
    if (!path || !plen) return 0;
    int64_t pid = ev->process_id.v.i, image = int_arg(ev, "image");
    sym_image *img = NULL;
    for (size_t i = 0; i < s->n && !img; i++)
        if (s->imgs[i].pid == pid && s->imgs[i].image == image) img = &s->imgs[i];
    if (!img) {
        if (dt_grow((void **)&s->imgs, &s->cap, s->n, sizeof *s->imgs)) return -1;
        img = &s->imgs[s->n++];
        memset(img, 0, sizeof *img);
        img->pid = pid;
        img->image = image;
    }
    uint64_t base = (uint64_t)int_arg(ev, "base");
    for (size_t i = 0; i < img->n; i++) /* the same module twice (fork child re-reports) */
        if (img->mods[i].base == base && !strncmp(img->mods[i].path, path, plen) &&
            !img->mods[i].path[plen])
            return 0;
    if (dt_grow((void **)&img->mods, &img->cap, img->n, sizeof *img->mods)) return -1;
    sym_module *m = &img->mods[img->n];
    memset(m, 0, sizeof *m);
    m->path = strndup(path, plen);
    if (!m->path) return -1;
    if (bid && blen < sizeof m->build_id) memcpy(m->build_id, bid, blen);
    m->base = base;
    img->n++;
    img->built = false; /* a module arrived after a lookup (dlopen): rebuild */
    return 0;
}

size_t dt_symbols_modules(const dt_symbols *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) n += s->imgs[i].n;
    return n;
}

static const Dwfl_Callbacks g_callbacks = {
    .find_elf = NULL, /* every module is reported with its file */
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = NULL,
};

static void hex(const unsigned char *b, int n, char *out, size_t cap) {
    size_t k = 0;
    for (int i = 0; i < n && k + 3 <= cap; i++, k += 2) snprintf(out + k, 3, "%02x", b[i]);
    out[k] = 0;
}

static void build_image(sym_image *img) {
    if (img->dwfl) dwfl_end(img->dwfl);
    img->dwfl = dwfl_begin(&g_callbacks);
    img->built = true;
    if (!img->dwfl) return;
    dwfl_report_begin(img->dwfl);
    for (size_t i = 0; i < img->n; i++) {
        sym_module *m = &img->mods[i];
        /* ET_DYN at its load bias (add_p_vaddr: base is relative to p_vaddr). */
        m->mod = dwfl_report_elf(img->dwfl, m->path, m->path, -1, m->base, true);
        m->trusted = false;
        if (!m->mod) continue;
        const unsigned char *bits;
        GElf_Addr vaddr;
        int len = dwfl_module_build_id(m->mod, &bits, &vaddr);
        char now[130] = "";
        if (len > 0) hex(bits, len, now, sizeof now);
        m->trusted = !m->build_id[0] || !strcmp(now, m->build_id);
        if (!m->trusted)
            dt_err("%s: build-id %s differs from the recorded %s (rebuilt since the run?); "
                   "its functions stay unnamed",
                   m->path, now[0] ? now : "(none)", m->build_id);
    }
    dwfl_report_end(img->dwfl, NULL, NULL);
}

static sym_image *image_for(dt_symbols *s, int64_t pid, int64_t ts) {
    sym_image *best = NULL, *first = NULL;
    for (size_t i = 0; i < s->n; i++) {
        sym_image *m = &s->imgs[i];
        if (m->pid != pid) continue;
        if (!first || m->image < first->image) first = m;
        if (m->image <= ts && (!best || m->image > best->image)) best = m;
    }
    return best ? best : first;
}

static sym_module *module_of(sym_image *img, Dwfl_Module *mod) {
    for (size_t i = 0; i < img->n; i++)
        if (img->mods[i].mod == mod) return &img->mods[i];
    return NULL;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Name and source line of addr in img (malloc'ed; *src NULL when unknown). */
static char *resolve(sym_image *img, uint64_t addr, char **src) {
    *src = NULL;
    if (!img->built) build_image(img);
    if (!img->dwfl) return NULL;
    Dwfl_Module *mod = dwfl_addrmodule(img->dwfl, addr);
    if (!mod) return NULL;
    sym_module *m = module_of(img, mod);
    Dwarf_Addr start = 0;
    dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    char *name = NULL;
    if (m && m->trusted) {
        GElf_Off off;
        GElf_Sym sym;
        const char *raw = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
        if (raw) {
            int st = -1;
            char *dem = !strncmp(raw, "_Z", 2) ? __cxa_demangle(raw, NULL, NULL, &st) : NULL;
            name = dem && st == 0 ? dem : strdup(raw);
            if (dem && st != 0) free(dem);
            if (name && off) { /* inside a function rather than at its start */
                char *withoff;
                if (asprintf(&withoff, "%s+0x%" PRIx64, name, (uint64_t)off) < 0) withoff = NULL;
                free(name);
                name = withoff;
            }
        }
        Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
        int lineno = 0;
        const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
        if (file && asprintf(src, "%s:%d", file, lineno) < 0) *src = NULL;
    }
    if (!name && asprintf(&name, "%s+0x%" PRIx64, m ? base_name(m->path) : "?",
                          (uint64_t)(addr - start)) < 0)
        name = NULL;
    return name;
}

bool dt_symbols_is_address(const char *name) {
    if (name[0] != '0' || name[1] != 'x' || !name[2]) return false;
    for (const char *p = name + 2; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

const dt_resolved *dt_symbols_lookup(dt_symbols *s, const dasf_trace_event *ev) {
    if (ev->process_id.type != DASF_VAL_INT) return NULL;
    int64_t pid = ev->process_id.v.i;
    sym_image *img = image_for(s, pid, ev->timestamp_ns);
    if (!img) return NULL;
    char key[96];
    int klen = snprintf(key, sizeof key, "%" PRId64 " %" PRId64 " %s", pid, img->image, ev->name);
    bool created;
    dt_strent *e = dt_strmap_get(&s->cache, key, (size_t)klen, &created);
    if (!e) return NULL;
    if (!created) return e->val == SIZE_MAX ? NULL : s->res[e->val];
    uint64_t addr = strtoull(ev->name + 2, NULL, 16);
    char *src;
    char *name = resolve(img, addr, &src);
    if (!name) return NULL; /* e->val stays SIZE_MAX: not resolvable */
    dt_resolved *r = calloc(1, sizeof *r);
    if (!r || dt_grow((void **)&s->res, &s->cap_res, s->n_res, sizeof *s->res)) {
        free(r);
        free(name);
        free(src);
        return NULL;
    }
    r->name = name;
    r->src = src;
    r->args.type = DASF_VAL_MAP;
    if (src) {
        r->kv.key.type = DASF_VAL_STR;
        r->kv.key.v.str.ptr = "src";
        r->kv.key.v.str.len = 3;
        r->kv.val.type = DASF_VAL_STR;
        r->kv.val.v.str.ptr = src;
        r->kv.val.v.str.len = (uint32_t)strlen(src);
        r->args.v.map.items = &r->kv;
        r->args.v.map.n = 1;
    }
    s->res[s->n_res] = r;
    e->val = s->n_res++;
    return r;
}

void dt_symbols_free(dt_symbols *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        sym_image *img = &s->imgs[i];
        if (img->dwfl) dwfl_end(img->dwfl);
        for (size_t k = 0; k < img->n; k++) free(img->mods[k].path);
        free(img->mods);
    }
    free(s->imgs);
    for (size_t i = 0; i < s->n_res; i++) {
        free(s->res[i]->name);
        free(s->res[i]->src);
        free(s->res[i]);
    }
    free(s->res);
    dt_strmap_free(&s->cache);
    free(s);
}
