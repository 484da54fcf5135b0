/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The counters of the module's server-status section (docs/operating.md):
 * one slot per child process index of the scoreboard, plus one for a
 * process found in none, each PUSH_REDIRECT_COUNTERS 64-bit counters that
 * the child adds to with relaxed atomic additions (from the Rust side,
 * through its write budget: push_redirect.h), and the time its store was
 * backed off. The status page sums the slots.
 *
 * The memory is anonymous shared memory made once, by the parent's first
 * post_config, in the process pool, and found again after a restart in the
 * process's retained data: a graceful restart keeps the counts, as
 * mod_status keeps its own in the scoreboard; the pre_mpm hook, which the
 * MPMs run at start-up and at a restart that is not graceful only, zeroes
 * them, as httpd zeroes its scoreboard then.
 */

#include "push_redirect_private.h"

#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "ap_mpm.h"
#include "scoreboard.h"

#include "apr_shm.h"

#include <time.h>
#include <unistd.h>

APLOG_USE_MODULE(push_redirect);

typedef struct {
    apr_uint64_t counts[PUSH_REDIRECT_COUNTERS];
    /* Milliseconds of back-offs that ended, and the one running: since
     * when (CLOCK_MONOTONIC, 0: none) and until when (0: until a probe
     * finds the store answering). Written by the one thread of the child
     * that started or ended it. */
    apr_uint64_t backoff_done, backoff_since, backoff_until;
} slot_t;

/* Each slot on cache lines of its own. */
#define SLOT_SIZE APR_ALIGN(sizeof(slot_t), 64)

typedef struct {
    apr_shm_t *shm;
    int slots;
    apr_time_t since; /* when the counts were zeroed */
} retained_t;

static retained_t *retained;
static char *base;     /* the slots, in this generation */
static slot_t *mine;   /* this child's */

#define SLOT(i) ((slot_t *)(base + (apr_size_t)(i) * SLOT_SIZE))
#define LOAD(v) __atomic_load_n(&(v), __ATOMIC_RELAXED)
#define STORE(v, x) __atomic_store_n(&(v), (x), __ATOMIC_RELAXED)

/* Milliseconds on the clock every process shares, never 0. */
static apr_uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_uint64_t)ts.tv_sec * 1000 + (apr_uint64_t)ts.tv_nsec / 1000000 + 1;
}

/* How long the back-off running in `slot` has lasted by `now`. */
static apr_uint64_t running_ms(slot_t *slot, apr_uint64_t now)
{
    apr_uint64_t since = LOAD(slot->backoff_since);
    apr_uint64_t until = LOAD(slot->backoff_until);
    apr_uint64_t end = until && until < now ? until : now;

    return since && end > since ? end - since : 0;
}

/* Ends the back-off running in `slot`, if any, at `now`. */
static void settle(slot_t *slot, apr_uint64_t now)
{
    apr_uint64_t ran = running_ms(slot, now);

    STORE(slot->backoff_since, 0);
    __atomic_fetch_add(&slot->backoff_done, ran, __ATOMIC_RELAXED);
}

void push_redirect_counts_backoff(int secs)
{
    apr_uint64_t now = now_ms();

    if (mine) {
        settle(mine, now);
        STORE(mine->backoff_until, secs ? now + (apr_uint64_t)secs * 1000 : 0);
        STORE(mine->backoff_since, now);
    }
}

void push_redirect_counts_backoff_end(void)
{
    if (mine) {
        settle(mine, now_ms());
    }
}

apr_uint64_t *push_redirect_counts_child(void)
{
    return mine ? mine->counts : NULL;
}

int push_redirect_counts_sum(apr_uint64_t *sum, apr_uint64_t *backoff_ms,
                             apr_time_t *since)
{
    apr_uint64_t now = now_ms();
    int i, c;

    memset(sum, 0, sizeof(apr_uint64_t) * PUSH_REDIRECT_COUNTERS);
    *backoff_ms = 0;
    if (!base) {
        return 0;
    }
    for (i = 0; i < retained->slots; i++) {
        slot_t *slot = SLOT(i);

        for (c = 0; c < PUSH_REDIRECT_COUNTERS; c++) {
            sum[c] += LOAD(slot->counts[c]);
        }
        *backoff_ms += LOAD(slot->backoff_done) + running_ms(slot, now);
    }
    *since = retained->since;
    return 1;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    int limit = 0;
    apr_status_t rv;

    (void)pconf;
    (void)plog;
    (void)ptemp;
    base = NULL;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    retained = ap_retained_data_get("push_redirect_counts");
    if (!retained) {
        retained = ap_retained_data_create("push_redirect_counts",
                                           sizeof(*retained));
        ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit);
        /* ServerLimit is fixed at start-up: no restart changes it. */
        retained->slots = (limit > 0 ? limit : 1) + 1;
        rv = apr_shm_create(&retained->shm, SLOT_SIZE * retained->slots,
                            NULL, s->process->pool);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PRLOGNO(0131)
                         "the counters of server-status cannot be made: "
                         "nothing is counted");
            return OK;
        }
        memset(apr_shm_baseaddr_get(retained->shm), 0,
               SLOT_SIZE * retained->slots);
        retained->since = apr_time_now();
    }
    if (retained->shm) {
        base = apr_shm_baseaddr_get(retained->shm);
    }
    return OK;
}

/* At start-up and at a restart that is not graceful. */
static int pre_mpm(apr_pool_t *p, ap_scoreboard_e sb_type)
{
    (void)p;
    (void)sb_type;
    if (base) {
        memset(base, 0, SLOT_SIZE * retained->slots);
        retained->since = apr_time_now();
    }
    return OK;
}

/* A child that exits ends its back-off: the slot's next child starts
 * with none. */
static apr_status_t child_exit(void *data)
{
    (void)data;
    push_redirect_counts_backoff_end();
    mine = NULL;
    return APR_SUCCESS;
}

/* The child's slot is the one of its scoreboard index; the parent writes
 * the child's pid there right after the fork, which a child may in
 * principle outrun: then it takes the last slot, shared with any other
 * such child (the counts stay right, the additions being atomic). */
static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_proc_t proc;
    int index;

    (void)s;
    if (!base) {
        return;
    }
    proc.pid = getpid();
    index = ap_find_child_by_pid(&proc);
    mine = SLOT(index >= 0 && index < retained->slots - 1 ? index
                                                          : retained->slots - 1);
    /* A child that died in a back-off left it running in its slot. */
    push_redirect_counts_backoff_end();
    apr_pool_cleanup_register(pchild, NULL, child_exit, apr_pool_cleanup_null);
}

void push_redirect_counts_register_hooks(void)
{
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_mpm(pre_mpm, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before the store's, which gives the child's slot to its budget. */
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_FIRST);
}
