/*
 * rcu.h — the RCU list the rings are registered on, as every checker sees
 * it (not installed).
 *
 * Used by the registry (db.c, registry.c, ring.c: writers, under the
 * database's reg_lock) and the flusher (the reader side).  liburcu-bp's
 * primitives plus what ThreadSanitizer and UBSan need to follow them.
 */
#ifndef DASF_RCU_H
#define DASF_RCU_H

#include <urcu-bp.h>
#include <urcu/list.h>
#include <urcu/rculist.h>

/* ---- RCU, as ThreadSanitizer can see it ------------------------------------
 * liburcu publishes list pointers with compiler barriers and plain stores,
 * and orders grace periods inside the (uninstrumented) library, so TSan
 * sees neither.  The ring list is therefore updated (under reg_lock) and
 * walked with C11-style atomics, and under TSan the grace period is made
 * visible: readers release a token when they leave the read side, and
 * call_rcu callbacks acquire it (and the object) before freeing. */
#if defined(__SANITIZE_THREAD__)
#define DASF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DASF_TSAN 1
#endif
#endif
#ifdef DASF_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char dasf_rcu_hb_token;
#define dasf_tsan_acquire(p) __tsan_acquire((void *)(p))
#define dasf_tsan_release(p) __tsan_release((void *)(p))
#else
#define dasf_tsan_acquire(p) ((void)(p))
#define dasf_tsan_release(p) ((void)(p))
#endif

static inline void dasf_rcu_read_lock(void) {
    rcu_read_lock();
}
static inline void dasf_rcu_read_unlock(void) {
#ifdef DASF_TSAN
    dasf_tsan_release(&dasf_rcu_hb_token);
#endif
    rcu_read_unlock();
}
/* Called first thing in a call_rcu callback on obj. */
static inline void dasf_rcu_callback_begin(void *obj) {
#ifdef DASF_TSAN
    dasf_tsan_acquire(&dasf_rcu_hb_token);
#endif
    dasf_tsan_acquire(obj);
}
static inline void dasf_call_rcu(struct rcu_head *h, void (*fn)(struct rcu_head *), void *obj) {
    dasf_tsan_release(obj);
    call_rcu(h, fn);
}
static inline struct cds_list_head *dasf_rcu_next(struct cds_list_head *n) {
    return __atomic_load_n(&n->next, __ATOMIC_ACQUIRE);
}
/* Writers hold the list's lock. */
static inline void dasf_rcu_list_add_tail(struct cds_list_head *n, struct cds_list_head *head) {
    n->next = head;
    n->prev = head->prev;
    __atomic_store_n(&head->prev->next, n, __ATOMIC_RELEASE);
    head->prev = n;
}
static inline void dasf_rcu_list_del(struct cds_list_head *n) {
    n->next->prev = n->prev;
    __atomic_store_n(&n->prev->next, n->next, __ATOMIC_RELEASE);
    /* n->next stays valid for readers standing on n. */
}

/* ---- list iteration -------------------------------------------------------
 * dasf_ring and dasf_filedb are cache-line aligned.  liburcu's
 * cds_list_for_each_entry* macros test for the end by forming a pointer to
 * the containing struct from the list head itself, which is not inside such
 * a struct: a misaligned member access (UB, reported by UBSan).  These walk
 * the nodes and form the containing pointer only for real elements.
 *   DASF_LIST_EACH       plain walk (caller holds the list's lock)
 *   DASF_LIST_EACH_RCU   under rcu_read_lock(), concurrent with list updates
 *   DASF_LIST_EACH_SAFE  the body may unlink (and free) the current element */
#define DASF_LIST_EACH(T, pos, head, member)                                     \
    for (struct cds_list_head *pos##_n_ = (head)->next;                          \
         pos##_n_ != (head) && ((pos) = caa_container_of(pos##_n_, T, member), 1); \
         pos##_n_ = pos##_n_->next)
#define DASF_LIST_EACH_RCU(T, pos, head, member)                                 \
    for (struct cds_list_head *pos##_n_ = dasf_rcu_next(head);                   \
         pos##_n_ != (head) && ((pos) = caa_container_of(pos##_n_, T, member), 1); \
         pos##_n_ = dasf_rcu_next(pos##_n_))
#define DASF_LIST_EACH_SAFE(T, pos, head, member)                                \
    for (struct cds_list_head *pos##_n_ = (head)->next, *pos##_x_ = pos##_n_->next; \
         pos##_n_ != (head) && ((pos) = caa_container_of(pos##_n_, T, member), 1); \
         pos##_n_ = pos##_x_, pos##_x_ = pos##_n_->next)

#endif
